import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCheckSets } from '../../../src/config/load-checks';

const valid = (name: string): string => `name: ${name}
data_source: { connection_env: WAREHOUSE_DATABASE_URL }
table: public.${name}
schedule: '@hourly'
checks: [row_count > 0]
`;

describe('loadCheckSets', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dq-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(file: string, text: string): string {
    mkdirSync(join(dir, 'checks'), { recursive: true });
    const path = join(dir, 'checks', file);
    writeFileSync(path, text);
    return path;
  }

  it('loads the shipped example', () => {
    const { value, problems } = loadCheckSets(resolve(__dirname, '../../../config'));
    expect(problems).toEqual([]);
    expect(value?.customers_daily).toMatchObject({
      table: { schema: 'public', name: 'customers' },
      data_source: { connection_env: 'WAREHOUSE_DATABASE_URL' },
      severity: 'P1',
    });
    expect(value?.customers_daily?.checks.map((c) => c.id)).toEqual([
      'row_count > 0',
      'row_count between 1000000 and 1500000',
      'row_count change vs previous',
      'freshness(updated_at) < 2h',
      'schema',
    ]);
  });

  it('keys check sets by name', () => {
    write('orders.yaml', valid('orders'));
    write('notes.txt', 'ignored');
    expect(Object.keys(loadCheckSets(dir).value ?? {})).toEqual(['orders']);
  });

  it('treats a missing checks folder as no check sets', () => {
    expect(loadCheckSets(dir)).toEqual({ value: {}, problems: [] });
  });

  it('reports a name that differs from the file name', () => {
    const path = write('orders.yaml', valid('order'));
    expect(loadCheckSets(dir)).toEqual({
      problems: [{ file: path, path: 'name', message: 'must equal the file name "orders" (got "order")' }],
    });
  });

  it('reports check problems with their paths', () => {
    const path = write(
      'orders.yaml',
      valid('orders').replace('[row_count > 0]', '[row_count > 0, row_count >> 5]'),
    );
    expect(loadCheckSets(dir).problems).toEqual([
      {
        file: path,
        path: 'checks.1',
        message: 'cannot parse "row_count >> 5": expected a comparison such as "row_count > 0"',
      },
    ]);
  });
});

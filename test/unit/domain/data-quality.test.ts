import { cronProblem } from '../../../src/domain/cron';
import {
  type Check,
  CheckSet,
  type CheckSetResult,
  type Measurements,
  evaluateCheck,
  evaluateCheckSet,
  formatTableName,
  normalizeColumnType,
  parseCheckDuration,
  parseCheckString,
  parseTableName,
  planMeasurements,
  summarizeCheckSetResult,
  worstOutcome,
} from '../../../src/domain/data-quality';

const base = {
  name: 'orders',
  data_source: { connection_env: 'WAREHOUSE_DATABASE_URL' },
  table: 'public.orders',
  schedule: '*/30 * * * *',
};

function checkSet(checks: unknown[], extra: Record<string, unknown> = {}): CheckSet {
  return CheckSet.parse({ ...base, ...extra, checks });
}

function check(entry: unknown): Check {
  return checkSet([entry]).checks[0]!;
}

function issues(input: Record<string, unknown>): [string, string][] {
  const result = CheckSet.safeParse({ ...base, ...input });
  expect(result.success).toBe(false);
  return result.error!.issues.map((i) => [i.path.join('.'), i.message]);
}

const columns = [
  { name: 'id', type: 'integer' },
  { name: 'email', type: 'text' },
  { name: 'updated_at', type: 'timestamp with time zone' },
];

function measured(extra: Partial<Measurements> = {}): Measurements {
  return { columns, freshness: {}, ...extra };
}

const HOUR = 3_600_000;

describe('parseCheckString', () => {
  it.each<[string, Partial<Check>]>([
    ['row_count > 0', { kind: 'row_count', id: 'row_count > 0', condition: { op: '>', value: 0 } }],
    ['row_count>=10', { id: 'row_count >= 10', condition: { op: '>=', value: 10 } }],
    ['row_count != 7', { condition: { op: '!=', value: 7 } }],
    [
      'row_count between 1000000 and 1_500_000',
      {
        id: 'row_count between 1000000 and 1500000',
        condition: { op: 'between', min: 1_000_000, max: 1_500_000, inclusive: true },
      },
    ],
    [
      'row_count between (10 and 20)',
      {
        id: 'row_count between (10 and 20)',
        condition: { op: 'between', min: 10, max: 20, inclusive: false },
      },
    ],
    ['row_count not between 1 and 5', { condition: { op: 'not between', min: 1, max: 5, inclusive: true } }],
    [
      'row_count change < 10% vs previous',
      {
        kind: 'row_count_change',
        id: 'row_count change vs previous',
        maxPct: 10,
        inclusive: false,
        baseline: 'previous',
      },
    ],
    ['row_count change < 10%', { baseline: 'previous' }],
    [
      'row_count change <= 12.5% vs avg_7',
      { id: 'row_count change vs avg_7', maxPct: 12.5, inclusive: true, baseline: { avg: 7 } },
    ],
    [
      'freshness(updated_at) < 2h',
      { kind: 'freshness', id: 'freshness(updated_at) < 2h', column: 'updated_at', failAfterMs: 2 * HOUR },
    ],
    [
      'freshness("Loaded At") < 1d6h30m',
      { column: 'Loaded At', failAfterMs: 30.5 * HOUR, id: 'freshness("Loaded At") < 1d6h30m' },
    ],
  ])('parses %s', (text, expected) => {
    expect(parseCheckString(text)).toMatchObject({ name: text, ...expected });
  });

  it.each([
    ['row_count >> 5', 'cannot parse "row_count >> 5": expected a comparison such as "row_count > 0"'],
    [
      'row_count between 5 and 1',
      'cannot parse "row_count between 5 and 1": lower bound 5 is above upper bound 1',
    ],
    [
      'row_count between (1 and 5',
      'cannot parse "row_count between (1 and 5": unbalanced parentheses: write "(lo and hi)" to exclude both ends',
    ],
    [
      'row_count change > 10%',
      'cannot parse "row_count change > 10%": expected "row_count change < 10% vs previous" (or "vs avg_7")',
    ],
    [
      'freshness(updated_at) < 2x',
      'cannot parse "freshness(updated_at) < 2x": invalid duration "2x": use units d, h, m, s such as "2h" or "1d6h30m"',
    ],
    [
      'freshness(updated_at) > 2h',
      'cannot parse "freshness(updated_at) > 2h": expected "freshness(column) < duration" such as "freshness(updated_at) < 2h"',
    ],
    [
      'duplicate_count(id) = 0',
      'cannot parse "duplicate_count(id) = 0": expected a check on row_count, row_count change, freshness(column) or schema',
    ],
  ])('rejects %s', (text, message) => {
    expect(parseCheckString(text)).toBe(message);
  });
});

describe('parseCheckDuration', () => {
  it.each([
    ['2h', 2 * HOUR],
    ['45m', 45 * 60_000],
    ['30s', 30_000],
    ['1d6h30m', 30.5 * HOUR],
    ['1d', 24 * HOUR],
  ])('reads %s', (text, ms) => {
    expect(parseCheckDuration(text)).toBe(ms);
  });

  it.each(['', '0h', '2x', '30m1h', '1.5h', 'h'])('rejects "%s"', (text) => {
    expect(parseCheckDuration(text)).toBeUndefined();
  });
});

describe('CheckSet', () => {
  it('parses the mapping forms of freshness and schema', () => {
    const set = checkSet([
      { 'freshness(updated_at)': { warn: 'when > 1h', fail: 'when > 6h' } },
      {
        schema: {
          fail: {
            'when required column missing': ['id', 'email'],
            'when wrong column type': { id: 'int4', updated_at: 'timestamptz' },
            'when forbidden column present': ['ssn', 'pii_*'],
          },
          warn: { 'when required column missing': ['phone'], 'when wrong column index': { id: 0 } },
        },
      },
    ]);
    expect(set.checks).toEqual([
      {
        kind: 'freshness',
        id: 'freshness(updated_at) warn > 1h fail > 6h',
        name: 'freshness(updated_at)',
        column: 'updated_at',
        warnAfterMs: HOUR,
        failAfterMs: 6 * HOUR,
      },
      {
        kind: 'schema',
        id: 'schema',
        name: 'schema',
        fail: {
          requiredColumns: ['id', 'email'],
          columnTypes: { id: 'integer', updated_at: 'timestamp with time zone' },
          forbiddenColumns: ['ssn', 'pii_*'],
          columnIndexes: {},
        },
        warn: { requiredColumns: ['phone'], columnTypes: {}, forbiddenColumns: [], columnIndexes: { id: 0 } },
      },
    ]);
  });

  it('applies defaults', () => {
    const set = checkSet(['row_count > 0']);
    expect(set).toMatchObject({
      table: { schema: 'public', name: 'orders' },
      severity: 'P1',
      owners: [],
      downstream_dags: [],
      downstream_from_datasets: false,
      where: [],
    });
  });

  it.each<[string, Record<string, unknown>, [string, string][]]>([
    [
      'an unparsable check',
      { checks: ['row_count > 0', 'row_count > 1', 'row_count >> 5'] },
      [['checks.2', 'cannot parse "row_count >> 5": expected a comparison such as "row_count > 0"']],
    ],
    [
      'a duplicate check',
      { checks: ['row_count > 0', 'row_count>0'] },
      [['checks.1', 'duplicate check "row_count > 0" (same as checks.0)']],
    ],
    [
      'a warn threshold above the fail threshold',
      { checks: [{ 'freshness(updated_at)': { warn: 'when > 6h', fail: 'when > 1h' } }] },
      [['checks.0.freshness(updated_at).warn', 'the warn threshold 6h must be below the fail threshold 1h']],
    ],
    [
      'a malformed freshness level',
      { checks: [{ 'freshness(updated_at)': { fail: 'after 6h' } }] },
      [['checks.0.freshness(updated_at).fail', 'cannot parse "after 6h": expected "when > 1h"']],
    ],
    [
      'an empty schema level',
      { checks: [{ schema: { fail: {} } }] },
      [['checks.0.schema.fail', 'needs at least one "when …" rule']],
    ],
    [
      'an unknown schema rule',
      { checks: [{ schema: { fail: { 'when schema changes': true } } }] },
      [['checks.0.schema.fail', 'Unrecognized key: "when schema changes"']],
    ],
    [
      'a type with a modifier',
      { checks: [{ schema: { fail: { 'when wrong column type': { name: 'varchar(20)' } } } }] },
      [
        [
          'checks.0.schema.fail.when wrong column type.name',
          'type modifiers are not compared: write the base type, e.g. "character varying"',
        ],
      ],
    ],
    [
      'a mapping with two keys',
      { checks: [{ schema: { fail: { 'when required column missing': ['id'] } }, other: 1 }] },
      [['checks.0', 'a check mapping has exactly one key (freshness(column) or schema), got schema, other']],
    ],
    [
      'an unknown mapping check',
      { checks: [{ 'row_count > 0': { warn: 1 } }] },
      [['checks.0', 'unknown check "row_count > 0": a check mapping is "freshness(column):" or "schema:"']],
    ],
    [
      'a number as a check',
      { checks: [5] },
      [
        [
          'checks.0',
          'expected a check such as "row_count > 0" or a mapping "freshness(column):" / "schema:"',
        ],
      ],
    ],
    ['no checks', { checks: [] }, [['checks', 'needs at least one check']]],
    [
      'a bad cron schedule',
      { schedule: '*/30 * * *', checks: ['row_count > 0'] },
      [
        [
          'schedule',
          'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 4',
        ],
      ],
    ],
    [
      'a connection string instead of a variable name',
      { data_source: { connection_env: 'postgres://u:p@h/db' }, checks: ['row_count > 0'] },
      [['data_source.connection_env', 'must be an environment variable name']],
    ],
    [
      'a malformed table name',
      { table: 'a.b.c', checks: ['row_count > 0'] },
      [
        [
          'table',
          'must be "schema.table" or "table"; double-quote a part containing "." or \'"\' ("a""b" for a quote)',
        ],
      ],
    ],
    [
      'an owner with two contacts',
      { owners: [{ person: 'alice', slack_channel: '#x' }], checks: ['row_count > 0'] },
      [['owners.0', 'needs exactly one of "person" or "slack_channel"']],
    ],
    [
      'an unknown key',
      { filter: "created_at > now() - interval '1 day'", checks: ['row_count > 0'] },
      [['', 'Unrecognized key: "filter"']],
    ],
    [
      'a filter with both value and ago',
      { where: [{ column: 'created_at', op: '>', value: 1, ago: '1d' }], checks: ['row_count > 0'] },
      [['where.0.value', 'needs exactly one of "value" or "ago"']],
    ],
    [
      'an "in" filter with a single value',
      { where: [{ column: 'status', op: 'in', value: 'x' }], checks: ['row_count > 0'] },
      [['where.0.value', '"in" needs a list value']],
    ],
  ])('rejects %s', (_name, input, expected) => {
    expect(issues(input)).toEqual(expected);
  });
});

describe('table names', () => {
  it.each([
    ['customers', { schema: 'public', name: 'customers' }, 'public.customers'],
    ['analytics.Orders', { schema: 'analytics', name: 'Orders' }, 'analytics.Orders'],
    [
      '"my.schema"."Odd ""x"" Name"',
      { schema: 'my.schema', name: 'Odd "x" Name' },
      '"my.schema"."Odd ""x"" Name"',
    ],
    ['raw.daily orders', { schema: 'raw', name: 'daily orders' }, 'raw."daily orders"'],
  ])('%s is %j, shown as %s', (text, ref, shown) => {
    expect(parseTableName(text)).toEqual(ref);
    expect(formatTableName(ref)).toBe(shown);
  });

  it.each(['a.b.c', '', '"unterminated', 'a. b', '.a'])('rejects "%s"', (text) => {
    expect(parseTableName(text)).toBeUndefined();
  });
});

describe('normalizeColumnType', () => {
  it.each([
    ['int4', 'integer'],
    ['INT', 'integer'],
    ['timestamptz', 'timestamp with time zone'],
    ['Timestamp', 'timestamp without time zone'],
    ['varchar', 'character varying'],
    ['text[]', 'text[]'],
    ['int8[]', 'bigint[]'],
    ['double  precision', 'double precision'],
  ])('%s is %s', (type, normal) => {
    expect(normalizeColumnType(type)).toBe(normal);
  });
});

describe('cronProblem', () => {
  it.each(['*/30 * * * *', '0 6 * * MON-FRI', '15 2,14 1 jan *', '0 0-23/2 * * 0', '@hourly'])(
    'accepts %s',
    (cron) => {
      expect(cronProblem(cron)).toBeUndefined();
    },
  );

  it.each([
    ['61 * * * *', 'minute "61" is out of range 0-59'],
    ['* 24 * * *', 'hour "24" is out of range 0-23'],
    ['* * 0 * *', 'day-of-month "0" is out of range 1-31'],
    ['* * * FOO *', 'month "FOO" is not a number'],
    ['* * * * 7', 'day-of-week "7" is out of range 0-6'],
    ['*/0 * * * *', 'minute step "0" must be a positive number'],
    ['30-10 * * * *', 'minute range "30-10" runs backwards'],
    ['@every', 'unknown cron macro "@every"'],
  ])('rejects %s', (cron, message) => {
    expect(cronProblem(cron)).toBe(message);
  });
});

describe('evaluateCheck', () => {
  it.each<[string, Partial<Measurements>, string, string, number | undefined]>([
    ['row_count > 0', { rowCount: 5 }, 'pass', 'row_count 5 is > 0', 5],
    ['row_count > 0', { rowCount: 0 }, 'fail', 'row_count 0 is not > 0', 0],
    [
      'row_count between 1000000 and 1500000',
      { rowCount: 850_000 },
      'fail',
      'row_count 850000 is not between 1000000 and 1500000',
      850_000,
    ],
    [
      'row_count between 1000000 and 1500000',
      { rowCount: 1_500_000 },
      'pass',
      'row_count 1500000 is between 1000000 and 1500000',
      1_500_000,
    ],
    [
      'row_count between (10 and 20)',
      { rowCount: 20 },
      'fail',
      'row_count 20 is not between (10 and 20)',
      20,
    ],
    ['row_count not between 1 and 5', { rowCount: 3 }, 'fail', 'row_count 3 is between 1 and 5', 3],
    ['row_count not between 1 and 5', { rowCount: 6 }, 'pass', 'row_count 6 is not between 1 and 5', 6],
  ])('%s with %j is %s: %s', (text, m, outcome, message, actual) => {
    const result = evaluateCheck(check(text), measured(m));
    expect(result).toEqual({
      checkId: check(text).id,
      name: text,
      outcome,
      actual,
      expected: text.replace('row_count ', ''),
      message,
    });
  });

  it.each<[string, number | null, boolean, string, string]>([
    [
      'freshness(updated_at) < 2h',
      20 * 60_000,
      true,
      'pass',
      'freshness(updated_at) is 20m, within the fail threshold 2h',
    ],
    [
      'freshness(updated_at) < 2h',
      3 * HOUR + 12 * 60_000,
      true,
      'fail',
      'freshness(updated_at) is 3h12m, above the fail threshold 2h',
    ],
    ['freshness(updated_at) < 2h', null, false, 'fail', 'no rows: freshness unknown'],
    ['freshness(updated_at) < 2h', null, true, 'fail', 'no non-NULL values in updated_at: freshness unknown'],
  ])('%s at age %s (rows: %s) is %s', (text, ageMs, hasRows, outcome, message) => {
    const result = evaluateCheck(check(text), measured({ freshness: { updated_at: { ageMs, hasRows } } }));
    expect(result).toMatchObject({ outcome, message, expected: 'fail > 2h' });
    expect(result.actual).toBe(ageMs === null ? undefined : ageMs / 1000);
  });

  it.each<[number, string, string]>([
    [30 * 60_000, 'pass', 'freshness(updated_at) is 30m, within the warn threshold 1h'],
    [90 * 60_000, 'warn', 'freshness(updated_at) is 1h30m, above the warn threshold 1h'],
    [7 * HOUR, 'fail', 'freshness(updated_at) is 7h, above the fail threshold 6h'],
  ])('a warn/fail freshness check at %sms is %s', (ageMs, outcome, message) => {
    const c = check({ 'freshness(updated_at)': { warn: 'when > 1h', fail: 'when > 6h' } });
    const result = evaluateCheck(c, measured({ freshness: { updated_at: { ageMs, hasRows: true } } }));
    expect(result).toMatchObject({ outcome, message, expected: 'warn > 1h, fail > 6h' });
  });

  it.each([
    ['freshness(loaded_at) < 1h', 'column loaded_at does not exist'],
    ['freshness(email) < 1h', 'column email has type text; freshness needs a timestamp or date column'],
  ])('%s is an error: %s', (text, message) => {
    expect(evaluateCheck(check(text), measured())).toMatchObject({ outcome: 'error', message });
  });

  const schema = (rules: Record<string, unknown>): Check => check({ schema: rules });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'matching columns',
      { fail: { 'when required column missing': ['id', 'email'] } },
      'pass',
      'schema as expected (3 columns)',
    ],
    [
      'a missing column',
      { fail: { 'when required column missing': ['id', 'email', 'phone'] } },
      'fail',
      'required column missing: phone',
    ],
    [
      'several missing columns',
      { fail: { 'when required column missing': ['phone', 'country'] } },
      'fail',
      'required columns missing: phone, country',
    ],
    [
      'a wrong type',
      { fail: { 'when wrong column type': { id: 'bigint', email: 'text' } } },
      'fail',
      'column id has type integer, expected bigint',
    ],
    [
      'a typed column that is missing',
      { fail: { 'when wrong column type': { phone: 'text' } } },
      'fail',
      'column phone is missing, expected type text',
    ],
    [
      'a forbidden column by wildcard',
      { fail: { 'when forbidden column present': ['ssn', 'e*'] } },
      'fail',
      'forbidden column present: email',
    ],
    [
      'a wrong index',
      { warn: { 'when wrong column index': { email: 0 } } },
      'warn',
      'column email is at index 1, expected 0',
    ],
    [
      'fail and warn problems',
      {
        fail: { 'when required column missing': ['phone'] },
        warn: { 'when required column missing': ['fax'] },
      },
      'fail',
      'required column missing: phone; warnings: required column missing: fax',
    ],
  ])('a schema check with %s is %s', (_name, rules, outcome, message) => {
    expect(evaluateCheck(schema(rules), measured())).toMatchObject({ outcome, message });
  });

  const previous = (...actuals: number[]) =>
    actuals.map((actual, i) => ({ actual, measuredAt: new Date(Date.UTC(2025, 0, 10 - i)).toISOString() }));

  it.each<[string, number, number[], string, string]>([
    [
      'row_count change < 10% vs previous',
      1050,
      [1000],
      'pass',
      'row_count change 5% (1050 vs previous 1000) is < 10%',
    ],
    [
      'row_count change < 10% vs previous',
      850,
      [1000, 850],
      'fail',
      'row_count change 15% (850 vs previous 1000) is not < 10%',
    ],
    [
      'row_count change < 10% vs previous',
      1100,
      [1000],
      'fail',
      'row_count change 10% (1100 vs previous 1000) is not < 10%',
    ],
    [
      'row_count change <= 10% vs previous',
      1100,
      [1000],
      'pass',
      'row_count change 10% (1100 vs previous 1000) is <= 10%',
    ],
    [
      'row_count change < 10% vs avg_3',
      1000,
      [900, 1000, 1100, 5000],
      'pass',
      'row_count change 0% (1000 vs avg of last 3 1000) is < 10%',
    ],
    [
      'row_count change < 10% vs avg_7',
      1200,
      [1000, 1000],
      'fail',
      'row_count change 20% (1200 vs avg of last 2 1000) is not < 10%',
    ],
    [
      'row_count change < 10% vs previous',
      5,
      [0],
      'fail',
      'row_count change unbounded (5 vs previous 0) is not < 10%',
    ],
    [
      'row_count change < 10% vs previous',
      1200,
      [],
      'pass',
      'row_count 1200 recorded; no previous row count to compare with yet',
    ],
  ])('%s at %s after %j is %s', (text, rowCount, history, outcome, message) => {
    const result = evaluateCheck(check(text), measured({ rowCount }), previous(...history));
    expect(result).toMatchObject({ outcome, message, actual: rowCount });
  });
});

describe('evaluateCheckSet', () => {
  const run = {
    runKey: 'run-1',
    startedAt: '2025-01-10T00:00:00.000Z',
    finishedAt: '2025-01-10T00:00:01.000Z',
  };
  const set = checkSet(['row_count > 0', 'row_count change < 10% vs previous', 'freshness(updated_at) < 2h']);

  it('takes the worst outcome and passes history to change checks', () => {
    const result = evaluateCheckSet(
      set,
      {
        ok: true,
        measurements: measured({
          rowCount: 2000,
          freshness: { updated_at: { ageMs: 60_000, hasRows: true } },
        }),
      },
      { 'row_count change vs previous': [{ actual: 1000, measuredAt: '2025-01-09T00:00:00.000Z' }] },
      run,
    );
    expect(result).toMatchObject({
      checkSet: 'orders',
      table: 'public.orders',
      runKey: 'run-1',
      outcome: 'fail',
    });
    expect(result.results.map((r) => r.outcome)).toEqual(['pass', 'fail', 'pass']);
  });

  it('marks every check as not run when the set could not run', () => {
    const result = evaluateCheckSet(
      set,
      {
        ok: false,
        error: { kind: 'unreachable', message: 'cannot connect to db:5432/x: connect ECONNREFUSED' },
      },
      {},
      run,
    );
    expect(result.outcome).toBe('error');
    expect(result.error).toEqual({
      kind: 'unreachable',
      message: 'cannot connect to db:5432/x: connect ECONNREFUSED',
    });
    expect(result.results).toHaveLength(3);
    expect(result.results[0]).toEqual({
      checkId: 'row_count > 0',
      name: 'row_count > 0',
      outcome: 'error',
      message: 'not run: cannot connect to db:5432/x: connect ECONNREFUSED',
    });
  });

  it.each<[CheckSetResult['outcome'][], CheckSetResult['outcome']]>([
    [[], 'pass'],
    [['pass', 'warn'], 'warn'],
    [['warn', 'error'], 'error'],
    [['error', 'fail', 'warn'], 'fail'],
  ])('the worst of %j is %s', (outcomes, worst) => {
    expect(worstOutcome(outcomes)).toBe(worst);
  });

  it('plans only the measurements its checks need', () => {
    expect(planMeasurements(set.checks)).toEqual({ rowCount: true, freshnessColumns: ['updated_at'] });
    expect(
      planMeasurements(checkSet(['freshness(a) < 1h', { 'freshness(a)': { warn: 'when > 2h' } }]).checks),
    ).toEqual({
      rowCount: false,
      freshnessColumns: ['a'],
    });
  });

  it('summarizes a failed run with its first finding', () => {
    const result = evaluateCheckSet(
      checkSet(['row_count between 1000000 and 1500000', 'row_count > 0']),
      { ok: true, measurements: measured({ rowCount: 850_000 }) },
      {},
      run,
    );
    expect(summarizeCheckSetResult(result)).toBe(
      'orders on public.orders: 1 of 2 checks failed: row_count 850000 is not between 1000000 and 1500000',
    );
  });

  it('summarizes a run that could not run', () => {
    const result = evaluateCheckSet(
      set,
      { ok: false, error: { kind: 'table_missing', message: 'relation public.orders does not exist' } },
      {},
      run,
    );
    expect(summarizeCheckSetResult(result)).toBe(
      'orders on public.orders: could not run: relation public.orders does not exist',
    );
  });
});

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig } from '../../../src/config/load-config';
import { ConfigError, formatProblem } from '../../../src/config/yaml-file';

const root = resolve(__dirname, '../../..');
const fixture = (name: string): string => resolve(root, 'test/fixtures/config', name);

function problems(dir: string): string[] {
  try {
    loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('loads the shipped config without problems', () => {
    expect(problems(resolve(root, 'config'))).toEqual([]);
  });

  it('reports every problem of a file as file:path: message', () => {
    expect(problems(fixture('invalid-routing'))).toEqual([
      'test/fixtures/config/invalid-routing/routing.yaml:rules.0.set.service: is not a valid template (use e.g. "{{ dag_id }}")',
      'test/fixtures/config/invalid-routing/routing.yaml:rules.0: Unrecognized key: "extra"',
      'test/fixtures/config/invalid-routing/routing.yaml:rules.1.match_re.dag_id: is not a valid regular expression',
      'test/fixtures/config/invalid-routing/routing.yaml:rules.1.name: duplicate rule name "a" (first at rules.0)',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems(fixture('broken-yaml'))[0]).toMatch(
      /^test\/fixtures\/config\/broken-yaml\/routing\.yaml: line 3, column \d+: /,
    );
  });

  it('reports a missing file', () => {
    expect(problems(fixture('does-not-exist'))).toEqual([
      'test/fixtures/config/does-not-exist/routing.yaml: file not found',
    ]);
  });

  it('makes the process exit 1 with the problems before it connects to anything', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', resolve(root, 'src/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        INCIDENTFLOW_CONFIG_DIR: fixture('invalid-routing'),
        TEMPORAL_ADDRESS: '127.0.0.1:1',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('routing.yaml:rules.0: Unrecognized key: "extra"');
  });
});

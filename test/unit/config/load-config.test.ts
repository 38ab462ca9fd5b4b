import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../../src/config/load-config';
import { ConfigError, formatProblem } from '../../../src/config/yaml-file';

const root = resolve(__dirname, '../../..');
const fixture = (name: string): string => readFileSync(resolve(root, 'test/fixtures/config', name), 'utf8');

/** A copy of the shipped config with some files replaced. */
function configWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-config-'));
  cpSync(resolve(root, 'config'), dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

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
    const dir = configWith({ 'routing.yaml': fixture('invalid-routing/routing.yaml') });
    expect(problems(dir)).toEqual([
      `${dir}/routing.yaml:rules.0.set.service: is not a valid template (use e.g. "{{ dag_id }}")`,
      `${dir}/routing.yaml:rules.0: Unrecognized key: "extra"`,
      `${dir}/routing.yaml:rules.1.match_re.dag_id: is not a valid regular expression`,
      `${dir}/routing.yaml:rules.1.name: duplicate rule name "a" (first at rules.0)`,
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const dir = configWith({ 'routing.yaml': fixture('broken-yaml/routing.yaml') });
    expect(problems(dir)).toEqual([expect.stringMatching(/\/routing\.yaml: line 3, column \d+: /)]);
  });

  it('checks that routing names existing runbooks and escalation policies', () => {
    const dir = configWith({
      'routing.yaml': 'rules:\n  - name: a\n    set: { runbook: nope, escalation_policy: nobody }\n',
    });
    expect(problems(dir)).toEqual([
      `${dir}/routing.yaml:rules.0.set.runbook: unknown runbook "nope"`,
      `${dir}/routing.yaml:rules.0.set.escalation_policy: unknown escalation policy "nobody"`,
    ]);
  });

  it('reports missing files', () => {
    expect(problems(resolve(root, 'test/fixtures/config/does-not-exist'))).toEqual([
      'test/fixtures/config/does-not-exist/routing.yaml: file not found',
      'test/fixtures/config/does-not-exist/oncall.yaml: file not found',
      'test/fixtures/config/does-not-exist/escalation-policies.yaml: file not found',
    ]);
  });

  it('makes the process exit 1 with the problems before it connects to anything', () => {
    const dir = configWith({ 'routing.yaml': fixture('invalid-routing/routing.yaml') });
    const result = spawnSync(process.execPath, ['--import', 'tsx', resolve(root, 'src/main.ts')], {
      cwd: root,
      env: { ...process.env, INCIDENTFLOW_CONFIG_DIR: dir, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('routing.yaml:rules.0: Unrecognized key: "extra"');
  });
});

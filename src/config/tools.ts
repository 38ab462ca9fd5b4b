import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The project root: the nearest folder above this file whose package.json is incidentflow's. */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = resolve(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'incidentflow'
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Environment variable that overrides each tool's path. */
const OVERRIDE = {
  temporal: 'TEMPORAL_CLI_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
  kubectl: 'KUBECTL_PATH',
} as const;

export type ToolName = keyof typeof OVERRIDE;

/**
 * Path of a tool installed by `scripts/setup-tools.sh`: the override variable when set, else
 * `.tools/bin/<name>`. Throws with a hint when neither exists.
 */
export function resolveTool(name: ToolName): string {
  const override = process.env[OVERRIDE[name]];
  if (override) return override;
  const local = resolve(projectRoot(), '.tools', 'bin', name);
  if (existsSync(local)) return local;
  throw new Error(`${name} not found: run "bash scripts/setup-tools.sh" (or set ${OVERRIDE[name]})`);
}

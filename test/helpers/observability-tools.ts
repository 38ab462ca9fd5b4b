import { spawnSync } from 'node:child_process';

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the Debian `prometheus` / `prometheus-alertmanager` command-line tools (promtool, amtool) and
 * returns its exit status and output. A missing binary is an error naming the package to install.
 */
export function runTool(command: 'promtool' | 'amtool', args: string[], cwd?: string): ToolResult {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    const pkg = command === 'promtool' ? 'prometheus' : 'prometheus-alertmanager';
    throw new Error(`${command} could not run (${result.error.message}): install the Debian package ${pkg}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Jest global setup for the `workflow` and `integration` projects: makes sure the Temporal binaries are
 * installed (scripts/setup-tools.sh) and, unless TEMPORAL_TEST_ADDRESS names a server to reuse, starts one
 * real Temporal dev server (headless, in memory, incident search attributes registered) for the run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { resolveTool } from '../../src/config/tools';
import { devServerSearchAttributeFlags } from '../../src/temporal/search-attributes';
import { freePort } from './ports';

const root = resolve(__dirname, '..', '..');

async function waitReady(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal dev server at ${address} not ready: ${String(lastError)}`);
}

export default async function globalSetup(): Promise<void> {
  execFileSync('bash', [resolve(root, 'scripts/setup-tools.sh')], { stdio: 'inherit' });
  process.env.TEMPORAL_CLI_PATH ??= resolveTool('temporal');
  process.env.TEMPORAL_TEST_SERVER_PATH ??= resolveTool('temporal-test-server');
  if (process.env.TEMPORAL_TEST_ADDRESS) return;
  const port = await freePort();
  const child = spawn(
    process.env.TEMPORAL_CLI_PATH,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--namespace',
      'default',
      '--log-level',
      'error',
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecution=true',
      '--dynamic-config-value',
      'frontend.workerVersioningDataAPIs=true',
      '--dynamic-config-value',
      'system.enableEagerWorkflowStart=true',
      ...devServerSearchAttributeFlags(),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], detached: false },
  );
  (globalThis as { __temporalDevServer?: typeof child }).__temporalDevServer = child;
  process.env.TEMPORAL_TEST_ADDRESS = `127.0.0.1:${port}`;
  await waitReady(process.env.TEMPORAL_TEST_ADDRESS, 60_000);
}

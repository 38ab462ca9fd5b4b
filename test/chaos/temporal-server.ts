/**
 * The chaos suite's own Temporal dev server, persisted in a SQLite file so it can be stopped and started
 * again on the same port mid-incident (the global test server cannot be restarted).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeFlags } from '../../src/temporal/search-attributes';
import { freePort } from '../helpers/ports';

export interface RestartableServer {
  address: string;
  /** SIGKILL (as in a crash of the server), then start again with the same database file and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

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

export async function startRestartableServer(): Promise<RestartableServer> {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: run through jest (global-setup installs it)');
  const dbFile = join(mkdtempSync(join(tmpdir(), 'incidentflow-chaos-temporal-')), 'temporal.db');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    child = spawn(
      cli,
      [
        'server',
        'start-dev',
        '--headless',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--db-filename',
        dbFile,
        '--namespace',
        'default',
        '--log-level',
        'error',
        ...devServerSearchAttributeFlags(),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await waitReady(address, 60_000);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    address,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}

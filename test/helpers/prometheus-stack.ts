import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';

/** A real Prometheus or Alertmanager process started for a test. */
export interface ManagedServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** host:port */
  address: string;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
  stop(): Promise<void>;
}

const LOG_LIMIT = 200_000;

async function waitReady(url: string, child: ChildProcess, logs: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${url}: process exited with ${child.exitCode}\n${logs()}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startServer(command: string, args: string[], port: number): Promise<ManagedServer> {
  let output = '';
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) =>
      reject(new Error(`${command} could not start (${err.message}): is the Debian package installed?`)),
    );
  });
  await spawned;
  const url = `http://127.0.0.1:${port}`;
  const logs = (): string => output;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitReady(url, child, logs, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, address: `127.0.0.1:${port}`, logs, stop };
}

/**
 * Starts the real `prometheus` (Debian package, 2.42) with the given configuration in `dir` (config file,
 * TSDB under `dir/prometheus-data`), listening on a free port of 127.0.0.1.
 */
export async function startPrometheus(dir: string, configYaml: string): Promise<ManagedServer> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml);
  mkdirSync(join(dir, 'prometheus-data'), { recursive: true });
  return startServer(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    port,
  );
}

/**
 * Starts the real `prometheus-alertmanager` (Debian package, 0.25) with the given configuration in `dir`,
 * clustering off, listening on a free port of 127.0.0.1.
 */
export async function startAlertmanager(dir: string, configYaml: string): Promise<ManagedServer> {
  const port = await freePort();
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, configYaml);
  mkdirSync(join(dir, 'alertmanager-data'), { recursive: true });
  return startServer(
    'prometheus-alertmanager',
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    port,
  );
}

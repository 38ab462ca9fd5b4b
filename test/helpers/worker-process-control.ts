import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { StoreOptions } from '../../src/adapters/store';
import type { KillOnActivity } from '../chaos/kill-interceptor';

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the process has exited (killed by the test or by its own chaos interceptor). */
  exited: Promise<void>;
  /** Everything the process printed so far (stdout and stderr, the last 20,000 characters). */
  output(): string;
  /** SIGKILL: no graceful shutdown, activities in flight are lost (as in a crash). */
  kill(): Promise<void>;
}

/** Starts test/helpers/worker-process.ts and resolves once it polls. */
export async function spawnWorker(options: {
  address: string;
  taskQueue: string;
  configDir: string;
  env: Record<string, string>;
  store?: StoreOptions;
  workflowBundlePath?: string;
  killOnActivity?: KillOnActivity;
}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'worker-process.ts')], {
    env: { ...process.env, INCIDENTFLOW_TEST_WORKER: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
    output = (output + c.toString()).slice(-20_000);
  });
  child.stdout.on('data', (c: Buffer) => {
    output = (output + c.toString()).slice(-20_000);
  });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`worker did not start: ${stderr}`)), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`worker exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    exited,
    output: () => output,
    kill: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        // The whole process group: kubectl children die with their worker, as in a crash of the pod.
        process.kill(-child.pid!, 'SIGKILL');
      }),
  };
}

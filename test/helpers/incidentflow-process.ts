/**
 * The product's own entry point (`src/main.ts --role=…`) as a separate OS process, for tests that run
 * several API and worker processes side by side and kill some of them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export type Role = 'all' | 'api' | 'worker';

export interface IncidentflowProcess {
  role: Role;
  child: ChildProcess;
  pid: number;
  /** Everything the process printed so far (stdout and stderr, last 64 KiB). */
  output(): string;
  /** SIGKILL to its process group: no graceful shutdown, work in flight is lost (as in a crash). */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit; resolves with the exit code (null after a signal). */
  stop(): Promise<number | null>;
}

/** The log line main.ts prints once the role is up. */
const READY: Record<Role, RegExp> = {
  worker: /worker polling task queue/,
  api: /API listening on/,
  all: /API listening on/,
};

/**
 * Starts `src/main.ts --role=<role>` with exactly `env` (plus PATH and HOME) and resolves once it logs
 * that it is ready. Fails with its output when it exits first or is not ready within `timeoutMs`.
 */
export async function startIncidentflow(
  role: Role,
  env: Record<string, string>,
  timeoutMs = 180_000,
): Promise<IncidentflowProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(__dirname, '../../src/main.ts'), `--role=${role}`],
    {
      cwd: resolve(__dirname, '../..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so kill() takes any children along, as a crash of the container would.
      detached: true,
    },
  );
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${role} process not ready after ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const check = (): void => {
      if (READY[role].test(output)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`${role} process exited with ${code} before it was ready:\n${output}`));
    });
  });

  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    role,
    child,
    pid: child.pid!,
    output: () => output,
    kill: async () => {
      if (alive()) process.kill(-child.pid!, 'SIGKILL');
      await exited;
    },
    stop: async () => {
      if (alive()) child.kill('SIGTERM');
      return exited;
    },
  };
}

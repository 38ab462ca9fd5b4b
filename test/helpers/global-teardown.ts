import type { ChildProcess } from 'node:child_process';

/** Stops the dev server that global-setup started (if it started one). */
export default async function globalTeardown(): Promise<void> {
  const child = (globalThis as { __temporalDevServer?: ChildProcess }).__temporalDevServer;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done();
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

import { open, readFile, rm } from 'node:fs/promises';

/** Lock files this process holds (a pid alone cannot tell our lock from a stale one of a past run with our pid). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock file holding our pid; returns its release function. A lock left by a process
 * that no longer runs is taken over. PGlite does not lock its directory itself, and two processes
 * opening one directory corrupt it.
 */
export async function lockFile(path: string, what: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      held.add(path);
      return async () => {
        held.delete(path);
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (held.has(path)) throw new Error(`${what} is already open in this process`);
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(
          `${what} is open in process ${pid}; only one process may use it (set DATABASE_URL to share a PostgreSQL server)`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not lock ${what}`);
}

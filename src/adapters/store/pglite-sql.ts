import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { lockFile } from './dir-lock';
import { assertSchemaName, normaliseParams, type Sql, type SqlSession } from './sql';

interface PGliteModule {
  PGlite: typeof PGlite;
}

/**
 * Loads PGlite through Node's own module loader. PGlite's CommonJS build imports Node built-ins with
 * dynamic `import()`, which jest's module sandbox rejects (without --experimental-vm-modules); Node's
 * loader (reached through `process.getBuiltinModule`, which jest does not wrap) runs it everywhere.
 */
function loadPGlite(): PGliteModule {
  const nodeModule = process.getBuiltinModule?.('node:module') ?? { createRequire };
  return nodeModule.createRequire(__filename)('@electric-sql/pglite') as PGliteModule;
}

export interface PgliteSqlOptions {
  /** Use this schema (search_path) instead of public. */
  schema?: string;
}

/**
 * {@link Sql} on an embedded PGlite database stored in `dataDir` (in memory when undefined). Holds
 * `<dataDir>.lock` while open: a second process (or a second open in this one) fails instead of
 * corrupting the directory.
 */
export async function createPgliteSql(
  dataDir: string | undefined,
  options: PgliteSqlOptions = {},
): Promise<Sql> {
  if (options.schema !== undefined) assertSchemaName(options.schema);
  let release = (): Promise<void> => Promise.resolve();
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    release = await lockFile(`${dataDir}.lock`, `the PGlite store at ${dataDir}`);
  }
  let db: PGlite;
  try {
    const { PGlite: PGliteClass } = loadPGlite();
    db = await PGliteClass.create(dataDir);
    // PGlite is a single connection, so a session setting holds for every later query.
    if (options.schema) await db.exec(`SET search_path TO ${options.schema}`);
  } catch (err) {
    await release();
    throw err;
  }

  const session = (client: PGlite | Transaction): SqlSession => ({
    async query<R extends object>(text: string, params?: readonly unknown[]) {
      const result = await client.query<R>(text, normaliseParams(params));
      return result.rows;
    },
    async exec(script: string) {
      await client.exec(script);
    },
  });

  return {
    driver: 'pglite',
    ...session(db),
    transaction: <T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> =>
      db.transaction((tx) => fn(session(tx))),
    close: async () => {
      try {
        await db.close();
      } finally {
        await release();
      }
    },
  };
}

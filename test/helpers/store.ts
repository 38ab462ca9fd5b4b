import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createStore, type Store, type StoreOptions } from '../../src/adapters/store';

export type StoreDriver = 'pglite' | 'postgres';

/** TEST_DATABASE_URL, or a clear failure (PostgreSQL tests never skip). */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'TEST_DATABASE_URL is not set: the store tests need a real PostgreSQL server ' +
        '(run `eval "$(bash scripts/ci-postgres.sh)"` first)',
    );
  }
  return url;
}

export interface TestStore {
  store: Store;
  /** Options that open another store on the same database and schema. */
  options: StoreOptions;
  /** Closes the store and drops its schema (postgres) or data directory (pglite). */
  cleanup(): Promise<void>;
}

/**
 * A fresh, isolated store: PGlite in a temporary directory, or PostgreSQL at TEST_DATABASE_URL in a
 * random schema. Not migrated.
 */
export async function openTestStore(
  driver: StoreDriver,
  extra: Pick<StoreOptions, 'migrationsDir'> = {},
): Promise<TestStore> {
  const databaseUrl = driver === 'postgres' ? testDatabaseUrl() : undefined;
  const dataDir = await mkdtemp(join(tmpdir(), 'incidentflow-store-'));
  if (databaseUrl === undefined) {
    const options: StoreOptions = { dataDir, ...extra };
    const store = await createStore(options);
    return {
      store,
      options,
      cleanup: async () => {
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const options: StoreOptions = { databaseUrl, dataDir, schema, ...extra };
  const store = await createStore(options);
  return {
    store,
    options,
    cleanup: async () => {
      await store.close();
      await dropSchema(databaseUrl, schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

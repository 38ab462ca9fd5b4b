import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sql } from './sql';

/** Migrations shipped with the store: `migrations/NNN_name.sql`. */
export const DEFAULT_MIGRATIONS_DIR = join(__dirname, 'migrations');

/** Advisory-lock namespace of the store (first key of the two-key `pg_advisory_xact_lock`). */
export const STORE_LOCK_NAMESPACE = 0x1ced;
/** Second lock key used by the migration runner (incident numbering uses the day, YYYYMMDD). */
export const MIGRATION_LOCK_KEY = 0;

export interface Migration {
  version: number;
  /** File name, e.g. `001_incidents.sql`. */
  name: string;
  sql: string;
  /** sha256 of the file with normalised line endings. */
  checksum: string;
}

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Reads `NNN_name.sql` files in numeric order; throws on a badly named `.sql` file or a repeated number. */
export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql'));
  const migrations: Migration[] = [];
  for (const name of files) {
    const match = FILE.exec(name);
    if (!match) throw new Error(`migrations: ${name} is not named NNN_name.sql`);
    const sql = (await readFile(join(dir, name), 'utf8')).replace(/\r\n/g, '\n');
    migrations.push({
      version: Number(match[1]),
      name,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    const [prev, cur] = [migrations[i - 1], migrations[i]];
    if (prev && cur && prev.version === cur.version) {
      throw new Error(`migrations: ${prev.name} and ${cur.name} share version ${cur.version}`);
    }
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one transaction that
 * first takes an advisory lock: a second process running this at the same time waits, then finds
 * everything applied. Refuses to run when an applied migration's file has changed since.
 * Returns the names of the migrations applied now.
 */
export async function runMigrations(
  sql: Sql,
  migrations: readonly Migration[],
  options: { schema?: string } = {},
): Promise<string[]> {
  return sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [STORE_LOCK_NAMESPACE, MIGRATION_LOCK_KEY]);
    if (options.schema) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations',
    );
    const applied = new Map(rows.map((r) => [r.version, r]));
    const now: string[] = [];
    for (const m of migrations) {
      const done = applied.get(m.version);
      if (done) {
        if (done.checksum !== m.checksum) {
          throw new Error(
            `migrations: ${m.name} changed after it was applied (as ${done.name}); add a new migration instead`,
          );
        }
        continue;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      now.push(m.name);
    }
    return now;
  });
}

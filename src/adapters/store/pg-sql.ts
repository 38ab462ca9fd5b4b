import { Pool, type PoolClient } from 'pg';
import { assertSchemaName, normaliseParams, type Sql, type SqlSession } from './sql';

export interface PgSqlOptions {
  /** Every connection uses this schema (search_path); default: the server's default (public). */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Called for errors of idle pooled connections (the pool drops the connection either way). */
  onIdleError?: (err: Error) => void;
}

/** {@link Sql} on a `pg` connection pool to a PostgreSQL server. */
export function createPgSql(connectionString: string, options: PgSqlOptions = {}): Sql {
  if (options.schema !== undefined) assertSchemaName(options.schema);
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: 'incidentflow',
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on('error', (err) => options.onIdleError?.(err));

  const session = (client: Pool | PoolClient): SqlSession => ({
    async query<R extends object>(text: string, params?: readonly unknown[]) {
      const result = await client.query(text, normaliseParams(params));
      return result.rows as R[];
    },
    async exec(script: string) {
      // Without parameters pg uses the simple protocol, which runs several statements.
      await client.query(script);
    },
  });

  return {
    driver: 'postgres',
    ...session(pool),
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(session(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw err;
      } finally {
        // A connection whose ROLLBACK failed is discarded instead of returned to the pool.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

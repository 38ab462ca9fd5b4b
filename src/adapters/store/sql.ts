/**
 * The smallest SQL surface the store needs, implemented by the `pg` Pool (a PostgreSQL server) and by
 * PGlite (embedded PostgreSQL): the store's SQL is the same for both.
 */
export interface SqlSession {
  /** One statement with `$1…` parameters; returns the rows. `undefined` parameters are sent as NULL. */
  query<R extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of several statements, without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Sql extends SqlSession {
  readonly driver: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK when it throws). */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Schema names are interpolated into SQL, so only plain identifiers are accepted. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}" (use [a-z_][a-z0-9_]*)`);
}

export function normaliseParams(params: readonly unknown[] | undefined): unknown[] {
  return (params ?? []).map((p) => (p === undefined ? null : p));
}

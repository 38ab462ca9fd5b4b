/**
 * Measures a data-quality check set on PostgreSQL: one short-lived connection, one READ ONLY transaction
 * bounded by a statement timeout, identifiers quoted and every user value passed as a parameter. Returns
 * measurements or why the set could not run; it never throws and never reveals the connection string.
 */
import { Client } from 'pg';
import {
  type CheckSet,
  type CheckSetError,
  type CheckSetErrorKind,
  type ColumnInfo,
  type FreshnessMeasurement,
  type MeasurementOutcome,
  type RowFilter,
  type TableRef,
  filterAgoMs,
  formatTableName,
  isTemporalType,
  normalizeColumnType,
  planMeasurements,
} from '../domain/data-quality';

export interface RunCheckSetQueriesOptions {
  /** Server-side limit per statement (`SET LOCAL statement_timeout`); default 15 s. */
  statementTimeoutMs?: number;
  /** Limit for establishing the connection; default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Scan time in epoch ms (default `Date.now`): freshness is scan time minus the newest value, as in
   * SodaCL, and `ago` filters count back from it.
   */
  now?: () => number;
}

/** Quotes an identifier for PostgreSQL: `a"b` → `"a""b"`. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"`. */
export function quoteTable(table: TableRef): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

const SQL_OP: Record<string, string> = { '=': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/**
 * The `WHERE` clause of a check set's filter (empty when none), with parameters numbered from
 * `firstParam`. Values are always parameters; the planner infers their type from the column.
 */
export function buildWhere(
  filters: readonly RowFilter[],
  firstParam: number,
  scanMs: number,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  const predicates = filters.map((f) => {
    const column = quoteIdent(f.column);
    switch (f.op) {
      case 'is null':
        return `${column} IS NULL`;
      case 'is not null':
        return `${column} IS NOT NULL`;
      case 'in':
        return `${column} = ANY(${param(f.value)})`;
      case 'not in':
        return `NOT (${column} = ANY(${param(f.value)}))`;
      case '=':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const ago = filterAgoMs(f);
        const rhs =
          ago === undefined ? param(f.value) : `${param(new Date(scanMs - ago).toISOString())}::timestamptz`;
        return `${column} ${SQL_OP[f.op]} ${rhs}`;
      }
    }
  });
  return { sql: predicates.length === 0 ? '' : ` WHERE ${predicates.join(' AND ')}`, params };
}

/** Where the connection goes, for messages: `host:port/database`, never user or password. */
export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
      const host = url.hostname === '' ? 'localhost' : url.hostname;
      return `${host}:${url.port === '' ? '5432' : url.port}${url.pathname === '/' ? '' : decodeURIComponent(url.pathname)}`;
    }
  } catch {
    // not a URL: key=value form
  }
  const pick = (key: string): string | undefined =>
    new RegExp(`(?:^|\\s)${key}=([^\\s]+)`).exec(connectionString)?.[1];
  const host = pick('host');
  return host === undefined ? 'the database' : `${host}:${pick('port') ?? '5432'}/${pick('dbname') ?? ''}`;
}

/**
 * Removes the connection string and its password from `text` (and any `scheme://user:password@` or
 * `password=` it may contain). Passwords shorter than 3 characters are only removed in those forms.
 */
export function redactSecrets(text: string, connectionString: string): string {
  let out = text.split(connectionString).join('[connection string]');
  const secrets: string[] = [];
  try {
    const url = new URL(connectionString);
    if (url.password !== '') secrets.push(url.password, decodeURIComponent(url.password));
  } catch {
    const pw = /(?:^|\s)password=([^\s]+)/.exec(connectionString)?.[1];
    if (pw !== undefined) secrets.push(pw.replace(/^'(.*)'$/, '$1'));
  }
  for (const secret of secrets) if (secret.length >= 3) out = out.split(secret).join('***');
  return out
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@')
    .replace(/(password\s*=\s*)[^\s]+/gi, '$1***');
}

interface PgLikeError {
  code?: string;
  message?: string;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

/**
 * Classifies a `pg` or socket error into why a check set could not run, with a message for people
 * (not yet redacted: {@link runCheckSetQueries} redacts).
 */
export function classifyCheckSetError(
  err: unknown,
  target: string,
  statementTimeoutMs: number,
): CheckSetError {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as PgLikeError;
  const message = e.message ?? String(err);
  const code = e.code ?? '';
  const kind = ((): CheckSetErrorKind => {
    if (CONNECT_CODES.has(code) || /connection (timeout|terminated)|timeout expired/i.test(message))
      return 'unreachable';
    if (code === '28P01' || code === '28000') return 'auth_failed';
    if (code === '3D000') return 'database_missing';
    if (code === '42P01') return 'table_missing';
    if (code === '42501') return 'permission_denied';
    if (code === '57014' || /query read timeout/i.test(message)) return 'timeout';
    if (code === '25006') return 'read_only_violation';
    if (code.startsWith('08') || code === '53300' || code === '57P03') return 'unreachable';
    return 'query_failed';
  })();
  const text: Record<CheckSetErrorKind, string> = {
    not_configured: message,
    unreachable: `cannot connect to ${target}: ${message}`,
    auth_failed: `authentication failed at ${target}: ${message}`,
    database_missing: `${message} at ${target}`,
    table_missing: message,
    permission_denied: `permission denied at ${target}: ${message}`,
    timeout: `a query ran longer than the statement timeout of ${statementTimeoutMs}ms and was cancelled`,
    read_only_violation: `a write was refused by the read-only transaction: ${message}`,
    query_failed: `query failed at ${target}: ${message}`,
  };
  return { kind, message: text[kind] };
}

/** Raised inside the runner for problems found before querying (missing table, bad filter column). */
class RunnerProblem extends Error {
  constructor(readonly problem: CheckSetError) {
    super(problem.message);
  }
}

function columnType(row: { data_type: string; udt_name: string }): string {
  if (row.data_type === 'USER-DEFINED') return row.udt_name;
  if (row.data_type === 'ARRAY') return `${normalizeColumnType(row.udt_name.replace(/^_/, ''))}[]`;
  return normalizeColumnType(row.data_type);
}

/**
 * Runs the queries a check set needs and returns its measurements, or `{ ok: false, error }` when the set
 * cannot run (unreachable, authentication, missing database/table/filter column, permission, statement
 * timeout, a write attempt). Schema from `information_schema.columns`; `count(*)` when a row-count check
 * exists; per freshness column `scan time - max(column)`, with `timestamp without time zone` and `date`
 * values read as UTC (the transaction runs with `TimeZone = UTC`).
 */
export async function runCheckSetQueries(
  connectionString: string,
  checkSet: Pick<CheckSet, 'table' | 'checks' | 'where'>,
  options: RunCheckSetQueriesOptions = {},
): Promise<MeasurementOutcome> {
  const statementTimeoutMs = Math.max(1, Math.floor(options.statementTimeoutMs ?? 15_000));
  const scanMs = (options.now ?? Date.now)();
  const target = describeTarget(connectionString);
  const client = new Client({
    connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Backstop for a server that stops answering: the server-side statement_timeout normally fires first.
    query_timeout: statementTimeoutMs + 5_000,
    application_name: 'incidentflow-data-quality',
  });
  // A connection dropped while idle emits 'error' on the client; without a listener it would crash the worker.
  client.on('error', () => undefined);
  let began = false;
  try {
    await client.connect();
    await client.query('BEGIN TRANSACTION READ ONLY');
    began = true;
    await client.query(
      `SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)`,
      [String(statementTimeoutMs)],
    );
    const readOnly = await client.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
    if (readOnly.rows[0]?.transaction_read_only !== 'on') {
      throw new RunnerProblem({
        kind: 'query_failed',
        message: 'the transaction is not read-only; refusing to run',
      });
    }
    const measurements = await measure(client, checkSet, scanMs);
    return { ok: true, measurements };
  } catch (err) {
    const error =
      err instanceof RunnerProblem ? err.problem : classifyCheckSetError(err, target, statementTimeoutMs);
    return {
      ok: false,
      error: { kind: error.kind, message: redactSecrets(error.message, connectionString) },
    };
  } finally {
    if (began) await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

async function measure(
  client: Client,
  checkSet: Pick<CheckSet, 'table' | 'checks' | 'where'>,
  scanMs: number,
): Promise<{ columns: ColumnInfo[]; rowCount?: number; freshness: Record<string, FreshnessMeasurement> }> {
  const { table } = checkSet;
  const shown = formatTableName(table);
  const exists = await client.query(
    `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [table.schema, table.name],
  );
  if (exists.rowCount === 0) {
    const hint = /[A-Z]/.test(table.schema + table.name) ? ' (names are case-sensitive)' : '';
    throw new RunnerProblem({ kind: 'table_missing', message: `relation ${shown} does not exist${hint}` });
  }
  const columnRows = await client.query<{ column_name: string; data_type: string; udt_name: string }>(
    `SELECT column_name, data_type, udt_name FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [table.schema, table.name],
  );
  const columns = columnRows.rows.map((r) => ({ name: r.column_name, type: columnType(r) }));
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const filter of checkSet.where) {
    if (!byName.has(filter.column)) {
      throw new RunnerProblem({
        kind: 'query_failed',
        message: `where: column ${filter.column} does not exist in ${shown}`,
      });
    }
  }
  const from = quoteTable(table);
  const plan = planMeasurements(checkSet.checks);
  const result: {
    columns: ColumnInfo[];
    rowCount?: number;
    freshness: Record<string, FreshnessMeasurement>;
  } = {
    columns,
    freshness: {},
  };
  const where = buildWhere(checkSet.where, 1, scanMs);
  // Freshness queries pass the scan time as $1, so their filter parameters start at $2.
  const whereAfterScan = buildWhere(checkSet.where, 2, scanMs);
  if (plan.rowCount) {
    const count = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${from}${where.sql}`,
      where.params,
    );
    result.rowCount = Number(count.rows[0]?.n ?? 0);
  }
  for (const name of plan.freshnessColumns) {
    const column = byName.get(name);
    // Missing or non-temporal columns are reported by the freshness check itself as an error.
    if (!column || !isTemporalType(column.type)) continue;
    const col = quoteIdent(name);
    const age =
      column.type === 'timestamp with time zone'
        ? `$1::timestamptz - max(${col})`
        : column.type === 'timestamp without time zone'
          ? `($1::timestamptz AT TIME ZONE 'UTC') - max(${col})`
          : `($1::timestamptz AT TIME ZONE 'UTC') - max(${col})::timestamp`;
    const scan = new Date(scanMs).toISOString();
    const row = await client.query<{ age: number | null }>(
      `SELECT EXTRACT(EPOCH FROM (${age}))::float8 AS age FROM ${from}${whereAfterScan.sql}`,
      [scan, ...whereAfterScan.params],
    );
    const seconds = row.rows[0]?.age ?? null;
    let hasRows = true;
    if (seconds === null) {
      const any = await client.query(`SELECT 1 FROM ${from}${where.sql} LIMIT 1`, where.params);
      hasRows = (any.rowCount ?? 0) > 0;
    }
    result.freshness[name] = { ageMs: seconds === null ? null : Math.round(seconds * 1000), hasRows };
  }
  return result;
}

/**
 * Where data-quality results are kept: the history row-count change checks compare with, and the result
 * of each run by its idempotency key. In memory for tests and the embedded default without a store; in
 * SQL (tables from migrations/100_data_quality.sql) on PostgreSQL or PGlite.
 */
import type { CheckResult, CheckSetResult, PreviousResult } from '../domain/data-quality';

/** A stored result of one check that carries a measured value. */
export interface HistoricalCheckResult extends PreviousResult {
  checkId: string;
  runKey: string;
  outcome: CheckResult['outcome'];
}

export interface CheckResultStore {
  /**
   * Earlier results of one check that carry a measured value (`actual` set, outcome not `error`), newest
   * first, at most `n`.
   */
  previousResults(checkSet: string, checkId: string, n: number): Promise<HistoricalCheckResult[]>;
  /** The result stored for a run key, if any. */
  runResult(checkSet: string, runKey: string): Promise<CheckSetResult | undefined>;
  /**
   * Stores a run's result unless one exists for its run key, and returns the stored one (the first writer
   * wins, so a retried run never records twice); `inserted` tells whether this call stored it.
   */
  save(result: CheckSetResult): Promise<{ result: CheckSetResult; inserted: boolean }>;
  /** The latest runs (newest first), of one check set or of all. */
  recentRuns(options: { checkSet?: string; limit: number }): Promise<CheckSetResult[]>;
}

function measured(r: CheckResult): r is CheckResult & { actual: number } {
  return r.outcome !== 'error' && typeof r.actual === 'number' && Number.isFinite(r.actual);
}

/** A store in memory (lost on restart). */
export function createMemoryCheckResultStore(): CheckResultStore {
  const runs: CheckSetResult[] = [];
  const byKey = new Map<string, CheckSetResult>();
  const key = (checkSet: string, runKey: string): string => JSON.stringify([checkSet, runKey]);
  const newestFirst = (list: CheckSetResult[]): CheckSetResult[] =>
    list
      .map((run, i) => ({ run, i }))
      .sort((a, b) => b.run.startedAt.localeCompare(a.run.startedAt) || b.i - a.i)
      .map((x) => x.run);
  return {
    previousResults(checkSet, checkId, n) {
      const out: HistoricalCheckResult[] = [];
      for (const run of newestFirst(runs.filter((r) => r.checkSet === checkSet))) {
        const r = run.results.find((c) => c.checkId === checkId);
        if (r && measured(r)) {
          out.push({
            checkId,
            runKey: run.runKey,
            outcome: r.outcome,
            actual: r.actual,
            measuredAt: run.startedAt,
          });
        }
        if (out.length >= n) break;
      }
      return Promise.resolve(out);
    },
    runResult(checkSet, runKey) {
      return Promise.resolve(structuredClone(byKey.get(key(checkSet, runKey))));
    },
    save(result) {
      const k = key(result.checkSet, result.runKey);
      const existing = byKey.get(k);
      if (existing) return Promise.resolve({ result: structuredClone(existing), inserted: false });
      const copy = structuredClone(result);
      byKey.set(k, copy);
      runs.push(copy);
      return Promise.resolve({ result: structuredClone(copy), inserted: true });
    },
    recentRuns({ checkSet, limit }) {
      const list = checkSet === undefined ? runs : runs.filter((r) => r.checkSet === checkSet);
      return Promise.resolve(
        newestFirst(list)
          .slice(0, limit)
          .map((r) => structuredClone(r)),
      );
    },
  };
}

/**
 * The minimal SQL client the store needs: a `pg` Pool/Client, PGlite, or the incident store's `Sql`.
 * Parameters are `$1…`; `jsonb` values are sent as JSON text.
 */
export interface SqlQueryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

const iso = (value: unknown): string => new Date(value as string | Date).toISOString();
const json = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

/** A store on the `dq_runs` / `dq_results` tables (migration 100_data_quality.sql). */
export function createSqlCheckResultStore(sql: SqlQueryable): CheckResultStore {
  const runResult = async (checkSet: string, runKey: string): Promise<CheckSetResult | undefined> => {
    const { rows } = await sql.query('SELECT result FROM dq_runs WHERE check_set = $1 AND run_key = $2', [
      checkSet,
      runKey,
    ]);
    const row = rows[0] as { result: unknown } | undefined;
    return row === undefined ? undefined : json<CheckSetResult>(row.result);
  };
  return {
    async previousResults(checkSet, checkId, n) {
      const { rows } = await sql.query(
        `SELECT run_key, outcome, actual, measured_at FROM dq_results
          WHERE check_set = $1 AND check_id = $2 AND outcome <> 'error' AND actual IS NOT NULL
          ORDER BY measured_at DESC, id DESC LIMIT $3`,
        [checkSet, checkId, n],
      );
      return (
        rows as { run_key: string; outcome: CheckResult['outcome']; actual: unknown; measured_at: unknown }[]
      ).map((r) => ({
        checkId,
        runKey: r.run_key,
        outcome: r.outcome,
        actual: Number(r.actual),
        measuredAt: iso(r.measured_at),
      }));
    },
    runResult,
    async save(result) {
      const checks = result.results.map((r) => ({
        check_id: r.checkId,
        outcome: r.outcome,
        actual: measured(r) ? r.actual : null,
        details: {
          name: r.name,
          message: r.message,
          expected: r.expected ?? null,
          details: r.details ?? null,
        },
      }));
      // One statement: the run row and its check rows are written together, or not at all when the run
      // key is already stored.
      const { rows } = await sql.query(
        `WITH run AS (
           INSERT INTO dq_runs (check_set, run_key, outcome, started_at, finished_at, result)
           VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6::jsonb)
           ON CONFLICT (check_set, run_key) DO NOTHING
           RETURNING check_set, run_key, started_at
         ), checks AS (
           INSERT INTO dq_results (check_set, run_key, check_id, outcome, actual, measured_at, details)
           SELECT run.check_set, run.run_key, c.check_id, c.outcome, c.actual, run.started_at, c.details
             FROM run, jsonb_to_recordset($7::jsonb) AS c(check_id text, outcome text, actual numeric, details jsonb)
         )
         SELECT count(*)::int AS inserted FROM run`,
        [
          result.checkSet,
          result.runKey,
          result.outcome,
          result.startedAt,
          result.finishedAt,
          JSON.stringify(result),
          JSON.stringify(checks),
        ],
      );
      const inserted = Number((rows[0] as { inserted: unknown } | undefined)?.inserted ?? 0) > 0;
      return {
        result: inserted ? result : ((await runResult(result.checkSet, result.runKey)) ?? result),
        inserted,
      };
    },
    async recentRuns({ checkSet, limit }) {
      const { rows } =
        checkSet === undefined
          ? await sql.query('SELECT result FROM dq_runs ORDER BY started_at DESC LIMIT $1', [limit])
          : await sql.query(
              'SELECT result FROM dq_runs WHERE check_set = $1 ORDER BY started_at DESC LIMIT $2',
              [checkSet, limit],
            );
      return (rows as { result: unknown }[]).map((r) => json<CheckSetResult>(r.result));
    },
  };
}

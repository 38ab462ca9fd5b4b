import { ApplicationFailure } from '@temporalio/common';
import type { CheckResultStore, HistoricalCheckResult } from '../adapters/check-result-store';
import { type RunCheckSetQueriesOptions, runCheckSetQueries } from '../adapters/postgres-checks';
import {
  type CheckSet,
  type CheckSetResult,
  type MeasurementOutcome,
  evaluateCheckSet,
} from '../domain/data-quality';
import { ErrorType } from '../domain/errors';
import type { Clock } from './clock';

/** Measures a check set on its data source (the real one is {@link runCheckSetQueries}). */
export type MeasureCheckSet = (
  connectionString: string,
  checkSet: CheckSet,
  options: RunCheckSetQueriesOptions,
) => Promise<MeasurementOutcome>;

export interface DataQualityDeps {
  /** The current check sets by name (re-read on each call, so a config reload applies to the next run). */
  checkSets: () => Readonly<Record<string, CheckSet>>;
  /** Environment lookup for `data_source.connection_env` (the composition root passes `process.env`). */
  env: (name: string) => string | undefined;
  results: CheckResultStore;
  clock: Clock;
  /** Per-statement limit on the data source; default 15 s. */
  statementTimeoutMs?: number;
  /** Called once per freshly measured result (not for a replayed run key); for metrics. Errors are ignored. */
  onResult?: (result: CheckSetResult) => void;
  /** Defaults to {@link runCheckSetQueries}. */
  measure?: MeasureCheckSet;
}

export interface RunDataQualityChecksInput {
  checkSet: string;
  /** Idempotency key of this run (e.g. the schedule's workflow id plus scheduled time). */
  runKey: string;
}

/**
 * Data-quality activities. `runDataQualityChecks` measures one check set in a read-only transaction,
 * evaluates its checks against the stored history and saves the result.
 */
export function createDataQualityActivities(deps: DataQualityDeps) {
  const measure = deps.measure ?? runCheckSetQueries;

  async function history(checkSet: CheckSet): Promise<Record<string, HistoricalCheckResult[]>> {
    const out: Record<string, HistoricalCheckResult[]> = {};
    for (const check of checkSet.checks) {
      if (check.kind !== 'row_count_change') continue;
      const n = check.baseline === 'previous' ? 1 : check.baseline.avg;
      out[check.id] = await deps.results.previousResults(checkSet.name, check.id, n);
    }
    return out;
  }

  return {
    /**
     * Runs one check set and returns its result. Idempotent per `runKey`: a retry with a key already
     * stored returns the stored result without measuring again. A set that cannot run (unset connection
     * variable, unreachable database, missing table, timeout) is a result with outcome `error`, not a
     * failure. Throws a non-retryable `NotFound` for an unknown check set; store failures are retryable.
     */
    async runDataQualityChecks(input: RunDataQualityChecksInput): Promise<CheckSetResult> {
      const checkSet = deps.checkSets()[input.checkSet];
      if (!checkSet) {
        throw ApplicationFailure.create({
          type: ErrorType.NotFound,
          message: `unknown data-quality check set "${input.checkSet}"`,
          nonRetryable: true,
        });
      }
      const stored = await deps.results.runResult(checkSet.name, input.runKey);
      if (stored) return stored;

      const startedMs = deps.clock.now();
      const envName = checkSet.data_source.connection_env;
      const connectionString = deps.env(envName);
      const measured: MeasurementOutcome =
        connectionString === undefined || connectionString.trim() === ''
          ? {
              ok: false,
              error: { kind: 'not_configured', message: `environment variable ${envName} is not set` },
            }
          : await measure(connectionString, checkSet, {
              statementTimeoutMs: deps.statementTimeoutMs ?? 15_000,
              now: () => startedMs,
            });
      const result = evaluateCheckSet(checkSet, measured, await history(checkSet), {
        runKey: input.runKey,
        startedAt: new Date(startedMs).toISOString(),
        finishedAt: new Date(deps.clock.now()).toISOString(),
      });
      const saved = await deps.results.save(result);
      if (saved.inserted) {
        try {
          deps.onResult?.(saved.result);
        } catch {
          // Metrics must never fail a check run.
        }
      }
      return saved.result;
    },
  };
}

export type DataQualityActivities = ReturnType<typeof createDataQualityActivities>;

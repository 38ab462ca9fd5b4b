import { Counter, Gauge, type Registry } from 'prom-client';
import type { CheckResultStore } from '../adapters/check-result-store';
import {
  type CheckSet,
  type CheckSetResult,
  type FreshnessCheck,
  formatTableName,
  OUTCOMES,
} from '../domain/data-quality';

/** The freshness threshold of a check in seconds: its fail threshold, else its warn threshold. */
function thresholdSeconds(check: FreshnessCheck): number | undefined {
  const ms = check.failAfterMs ?? check.warnAfterMs;
  return ms === undefined ? undefined : ms / 1000;
}

const freshnessChecks = (set: Pick<CheckSet, 'checks'>): FreshnessCheck[] =>
  set.checks.filter((c): c is FreshnessCheck => c.kind === 'freshness');

/**
 * Data-quality metrics, fed by the check activity's `onResult` (see {@link DataQualityMetrics.observe}):
 * - `incidentflow_dq_check_runs_total{check_set,outcome}` counter, every known check set × outcome at 0;
 * - `incidentflow_dq_freshness_seconds{check_set,table}` age of the newest row (the Prometheus rule
 *   `DataFreshnessViolation` reads exactly this name) and
 *   `incidentflow_dq_freshness_threshold_seconds{check_set,table}` its threshold. With several freshness
 *   checks in one set, both come from the check closest to (or furthest past) its threshold;
 * - `incidentflow_dq_row_count{check_set,table}` the row count the last run measured.
 * `table` is `schema.table`, as in the data-quality alerts, so the rule's alert and a failed run join the
 * same incident. A value the last run could not measure keeps its previous sample.
 */
export function createDataQualityMetrics(registry: Registry, knownCheckSets: readonly CheckSet[] = []) {
  const runs = new Counter({
    name: 'incidentflow_dq_check_runs_total',
    help: 'Data-quality check-set runs, by check set and outcome (pass, warn, error, fail)',
    labelNames: ['check_set', 'outcome'] as const,
    registers: [registry],
  });
  const freshness = new Gauge({
    name: 'incidentflow_dq_freshness_seconds',
    help: 'Age of the newest row of a checked table at the last data-quality run, in seconds',
    labelNames: ['check_set', 'table'] as const,
    registers: [registry],
  });
  const threshold = new Gauge({
    name: 'incidentflow_dq_freshness_threshold_seconds',
    help: 'Freshness threshold configured for a checked table (fail, else warn), in seconds',
    labelNames: ['check_set', 'table'] as const,
    registers: [registry],
  });
  const rowCount = new Gauge({
    name: 'incidentflow_dq_row_count',
    help: 'Rows of a checked table (with the check set filter) at the last data-quality run',
    labelNames: ['check_set', 'table'] as const,
    registers: [registry],
  });

  /** Pre-initialises the run counter and exports the configured thresholds. */
  function register(set: CheckSet): void {
    for (const outcome of OUTCOMES) runs.inc({ check_set: set.name, outcome }, 0);
    const limits = freshnessChecks(set)
      .map(thresholdSeconds)
      .filter((s): s is number => s !== undefined);
    if (limits.length > 0)
      threshold.set({ check_set: set.name, table: formatTableName(set.table) }, Math.min(...limits));
  }
  for (const set of knownCheckSets) register(set);

  function setGauges(result: CheckSetResult, checkSet: CheckSet | undefined): void {
    const labels = { check_set: result.checkSet, table: result.table };
    const rows = result.results.find(
      (r) =>
        r.outcome !== 'error' &&
        typeof r.actual === 'number' &&
        checkSet?.checks.some(
          (c) => c.id === r.checkId && (c.kind === 'row_count' || c.kind === 'row_count_change'),
        ),
    );
    if (rows?.actual !== undefined) rowCount.set(labels, rows.actual);
    if (!checkSet) return;
    let worst: { ratio: number; age: number; limit: number } | undefined;
    for (const check of freshnessChecks(checkSet)) {
      const measured = result.results.find((r) => r.checkId === check.id);
      const limit = thresholdSeconds(check);
      if (!measured || measured.outcome === 'error' || typeof measured.actual !== 'number') continue;
      if (limit === undefined) continue;
      const ratio = measured.actual / limit;
      if (!worst || ratio > worst.ratio) worst = { ratio, age: measured.actual, limit };
    }
    if (worst) {
      freshness.set(labels, worst.age);
      threshold.set(labels, worst.limit);
    }
  }

  return {
    runs,
    freshness,
    threshold,
    rowCount,
    /** Exports a check set configured after start-up (counter at 0, thresholds). */
    register,
    /**
     * Records one run: counts it and sets the gauges from its measurements. `checkSet` (the current
     * config) tells which results are row counts and freshness ages; without it only the counter is
     * updated.
     */
    observe(result: CheckSetResult, checkSet?: CheckSet): void {
      runs.inc({ check_set: result.checkSet, outcome: result.outcome });
      setGauges(result, checkSet);
    },
    /**
     * Sets the gauges from the latest stored run of each check set (so a restarted process exports them
     * before the next run). Does not count runs.
     */
    async restore(results: CheckResultStore, checkSets: readonly CheckSet[]): Promise<void> {
      for (const set of checkSets) {
        const [latest] = await results.recentRuns({ checkSet: set.name, limit: 1 });
        if (!latest) continue;
        setGauges(latest, set);
      }
    },
  };
}

export type DataQualityMetrics = ReturnType<typeof createDataQualityMetrics>;

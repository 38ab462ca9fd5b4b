import { Registry } from 'prom-client';
import { createMemoryCheckResultStore } from '../../../src/adapters/check-result-store';
import { CheckSet, type CheckSetResult, evaluateCheckSet } from '../../../src/domain/data-quality';
import { createDataQualityMetrics } from '../../../src/metrics/data-quality-metrics';

const orders = CheckSet.parse({
  name: 'orders',
  data_source: { connection_env: 'WAREHOUSE_DATABASE_URL' },
  table: 'sales.orders',
  schedule: '@hourly',
  checks: [
    'row_count > 0',
    'freshness(updated_at) < 2h',
    { 'freshness(loaded_at)': { warn: 'when > 10m', fail: 'when > 30m' } },
  ],
});

const columns = [
  { name: 'updated_at', type: 'timestamp with time zone' },
  { name: 'loaded_at', type: 'timestamp with time zone' },
];

function run(rowCount: number, updatedAgeMs: number, loadedAgeMs: number): CheckSetResult {
  return evaluateCheckSet(
    orders,
    {
      ok: true,
      measurements: {
        columns,
        rowCount,
        freshness: {
          updated_at: { ageMs: updatedAgeMs, hasRows: true },
          loaded_at: { ageMs: loadedAgeMs, hasRows: true },
        },
      },
    },
    {},
    {
      runKey: `r-${rowCount}`,
      startedAt: '2026-05-01T10:00:00.000Z',
      finishedAt: '2026-05-01T10:00:01.000Z',
    },
  );
}

async function samples(registry: Registry, name: string): Promise<Array<[Record<string, unknown>, number]>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).map((v) => [v.labels, v.value]);
}

describe('createDataQualityMetrics', () => {
  it('starts every known check set and outcome at 0 and exports the strictest threshold', async () => {
    const registry = new Registry();
    createDataQualityMetrics(registry, [orders]);
    expect(await samples(registry, 'incidentflow_dq_check_runs_total')).toEqual([
      [{ check_set: 'orders', outcome: 'pass' }, 0],
      [{ check_set: 'orders', outcome: 'warn' }, 0],
      [{ check_set: 'orders', outcome: 'error' }, 0],
      [{ check_set: 'orders', outcome: 'fail' }, 0],
    ]);
    expect(await samples(registry, 'incidentflow_dq_freshness_threshold_seconds')).toEqual([
      [{ check_set: 'orders', table: 'sales.orders' }, 1800],
    ]);
  });

  it('counts a run and sets row count and the freshness of the check closest to its threshold', async () => {
    const registry = new Registry();
    const metrics = createDataQualityMetrics(registry, [orders]);
    // updated_at: 1h of 2h (0.5); loaded_at: 20m of 30m (0.67) → loaded_at wins.
    metrics.observe(run(42, 3_600_000, 1_200_000), orders);
    expect(await samples(registry, 'incidentflow_dq_freshness_seconds')).toEqual([
      [{ check_set: 'orders', table: 'sales.orders' }, 1200],
    ]);
    expect(await samples(registry, 'incidentflow_dq_freshness_threshold_seconds')).toEqual([
      [{ check_set: 'orders', table: 'sales.orders' }, 1800],
    ]);
    expect(await samples(registry, 'incidentflow_dq_row_count')).toEqual([
      [{ check_set: 'orders', table: 'sales.orders' }, 42],
    ]);
    expect(await samples(registry, 'incidentflow_dq_check_runs_total')).toContainEqual([
      { check_set: 'orders', outcome: 'warn' },
      1,
    ]);
  });

  it('takes the other freshness check when it is further past its threshold', async () => {
    const registry = new Registry();
    const metrics = createDataQualityMetrics(registry);
    metrics.observe(run(42, 3 * 3_600_000, 60_000), orders);
    expect(await samples(registry, 'incidentflow_dq_freshness_seconds')).toEqual([
      [{ check_set: 'orders', table: 'sales.orders' }, 10_800],
    ]);
    expect(await samples(registry, 'incidentflow_dq_freshness_threshold_seconds')).toEqual([
      [{ check_set: 'orders', table: 'sales.orders' }, 7200],
    ]);
  });

  it('restores the gauges from the latest stored run without counting it', async () => {
    const registry = new Registry();
    const results = createMemoryCheckResultStore();
    await results.save(run(7, 60_000, 60_000));
    const metrics = createDataQualityMetrics(registry, [orders]);
    await metrics.restore(results, [orders]);
    expect(await samples(registry, 'incidentflow_dq_row_count')).toEqual([
      [{ check_set: 'orders', table: 'sales.orders' }, 7],
    ]);
    const counted = (await samples(registry, 'incidentflow_dq_check_runs_total')).map(([, v]) => v);
    expect(counted).toEqual([0, 0, 0, 0]);
  });
});

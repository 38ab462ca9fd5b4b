import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  createPrometheusActivities,
  type PrometheusAwaitCheckInput,
} from '../../../src/activities/prometheus.activities';
import type { PrometheusClient, PromSample } from '../../../src/adapters/prometheus';
import { UpstreamError } from '../../../src/adapters/upstream-error';
import { ErrorType } from '../../../src/domain/errors';
import { createSteppingClock, type SteppingClock } from '../../helpers/stepping-clock';

const T0 = Date.UTC(2024, 4, 1, 12);
const EXPR = 'job:airflow_ti_failure_ratio:5m{dag_id="etl"} < 0.05';

let clock: SteppingClock;
let queries: Array<{ expr: string; at: number }>;

beforeEach(() => {
  clock = createSteppingClock(T0);
  queries = [];
});

/**
 * A Prometheus adapter whose answer depends on the (stepping) clock: `valueAt(secondsSinceT0)` gives the
 * sample value, or null for an empty result (the filter expression is false).
 */
function fakePrometheus(valueAt: (s: number) => string | null | Error): PrometheusClient {
  return {
    query(expr) {
      queries.push({ expr, at: clock.now() });
      const v = valueAt((clock.now() - T0) / 1000);
      if (v instanceof Error) return Promise.reject(v);
      const result: PromSample[] =
        v === null ? [] : [{ metric: { dag_id: 'etl' }, value: [clock.now() / 1000, v] }];
      return Promise.resolve({ resultType: 'vector', result });
    },
    holds: () => Promise.reject(new Error('not used')),
  };
}

const input = (overrides: Partial<PrometheusAwaitCheckInput> = {}): PrometheusAwaitCheckInput => ({
  expr: EXPR,
  holdForMs: 60_000,
  deadlineAtMs: T0 + 10 * 60_000,
  pollIntervalMs: 10_000,
  ...overrides,
});

function mockEnv(info?: ConstructorParameters<typeof MockActivityEnvironment>[0]): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

function runIn<I, R>(env: MockActivityEnvironment, fn: (i: I) => Promise<R>, i: I): Promise<R> {
  return env.run<[I], R, (i: I) => Promise<R>>(fn, i);
}

describe('prometheusAwaitCheck', () => {
  it('holds once the expression has returned data continuously for holdFor', async () => {
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(() => '0.01'),
      clock,
    });
    const result = await runIn(mockEnv(), prometheusAwaitCheck, input());
    expect(result).toEqual({
      held: true,
      since: T0,
      polls: 7,
      samples: [{ metric: { dag_id: 'etl' }, value: [(T0 + 60_000) / 1000, '0.01'] }],
    });
    expect(clock.now()).toBe(T0 + 60_000);
  });

  it('restarts the hold after a dip', async () => {
    const dipAt40s = (s: number) => (s === 40 ? null : '0.01');
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(dipAt40s),
      clock,
    });
    const result = await runIn(mockEnv(), prometheusAwaitCheck, input());
    expect(result).toMatchObject({ held: true, since: T0 + 50_000, polls: 12 });
    expect(clock.now()).toBe(T0 + 110_000);
  });

  it('returns held:false with a reason at the deadline when the expression never returns data', async () => {
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(() => null),
      clock,
    });
    const result = await runIn(mockEnv(), prometheusAwaitCheck, input({ deadlineAtMs: T0 + 95_000 }));
    expect(result).toEqual({
      held: false,
      reason: `no data for \`${EXPR}\` at the deadline`,
      lastValue: null,
      since: null,
      polls: 11,
    });
    expect(clock.now()).toBe(T0 + 95_000);
    expect(clock.sleeps.at(-1)).toBe(5_000);
  });

  it('reports a partial hold when the deadline cuts it short', async () => {
    const lateRecovery = (s: number) => (s >= 60 ? '0.02' : null);
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(lateRecovery),
      clock,
    });
    const result = await runIn(mockEnv(), prometheusAwaitCheck, input({ deadlineAtMs: T0 + 80_000 }));
    expect(result).toEqual({
      held: false,
      reason: 'held for 20s of the required 1m when the deadline passed',
      lastValue: '0.02',
      since: T0 + 60_000,
      polls: 9,
    });
  });

  it('resumes from heartbeat details and keeps the recorded since', async () => {
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(() => '0.01'),
      clock,
    });
    const env = mockEnv({
      heartbeatDetails: { expr: EXPR, since: T0 - 50_000, polls: 6, lastValue: '0.01' },
    });
    const result = await runIn(env, prometheusAwaitCheck, input());
    expect(result).toMatchObject({ held: true, since: T0 - 50_000, polls: 8 });
    expect(clock.now()).toBe(T0 + 10_000);
  });

  it('heartbeats the hold progress after every poll', async () => {
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus((s) => (s === 10 ? null : '0.01')),
      clock,
    });
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await runIn(env, prometheusAwaitCheck, input({ holdForMs: 10_000 }));
    expect(beats).toEqual([
      { expr: EXPR, since: T0, polls: 1, lastValue: '0.01' },
      { expr: EXPR, since: null, polls: 2, lastValue: null },
      { expr: EXPR, since: T0 + 20_000, polls: 3, lastValue: '0.01' },
      { expr: EXPR, since: T0 + 20_000, polls: 4, lastValue: '0.01' },
    ]);
  });

  it('throws a retryable failure when Prometheus is unreachable', async () => {
    const down = new UpstreamError({
      service: 'prometheus',
      type: ErrorType.Unavailable,
      retryable: true,
      message: 'prometheus GET /api/v1/query: network error (ECONNREFUSED)',
    });
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(() => down),
      clock,
    });
    const err = await runIn(mockEnv(), prometheusAwaitCheck, input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: ErrorType.Unavailable, nonRetryable: false, message: down.message });
  });

  it('throws a final failure for a bad expression', async () => {
    const bad = new UpstreamError({
      service: 'prometheus',
      type: ErrorType.Rejected,
      retryable: false,
      message: 'prometheus GET /api/v1/query: 400 bad_data: parse error',
    });
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(() => bad),
      clock,
    });
    await expect(runIn(mockEnv(), prometheusAwaitCheck, input())).rejects.toMatchObject({
      type: ErrorType.Rejected,
      nonRetryable: true,
    });
  });

  it('stops waiting when the activity is cancelled', async () => {
    const { prometheusAwaitCheck } = createPrometheusActivities({
      prometheus: fakePrometheus(() => null),
      clock,
    });
    const env = mockEnv();
    env.on('heartbeat', () => env.cancel());
    await expect(runIn(env, prometheusAwaitCheck, input())).rejects.toBeInstanceOf(CancelledFailure);
    expect(queries).toHaveLength(1);
  });
});

describe('prometheusQuery', () => {
  it('returns the samples of an instant query', async () => {
    const { prometheusQuery } = createPrometheusActivities({
      prometheus: fakePrometheus(() => '0.3'),
      clock,
    });
    expect(await prometheusQuery({ expr: 'job:airflow_ti_failure_ratio:5m' })).toEqual({
      resultType: 'vector',
      samples: [{ metric: { dag_id: 'etl' }, value: [T0 / 1000, '0.3'] }],
    });
  });

  it('refuses an empty expression', async () => {
    const { prometheusQuery } = createPrometheusActivities({ prometheus: fakePrometheus(() => '1'), clock });
    await expect(prometheusQuery({ expr: ' ' })).rejects.toMatchObject({
      type: ErrorType.Rejected,
      message: 'prometheusQuery: expr is empty',
    });
  });
});

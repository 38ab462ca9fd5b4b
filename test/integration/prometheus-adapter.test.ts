import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { systemClock } from '../../src/activities/clock';
import {
  createPrometheusActivities,
  type PrometheusAwaitCheckInput,
  type PrometheusAwaitCheckResult,
} from '../../src/activities/prometheus.activities';
import { createPrometheusClient, type PrometheusClient } from '../../src/adapters/prometheus';
import { UpstreamError } from '../../src/adapters/upstream-error';
import { ErrorType } from '../../src/domain/errors';
import { startPrometheus, type PrometheusProcess } from '../helpers/prometheus-process';
import { eventually } from '../helpers/temporal';

/**
 * The Prometheus adapter and the check activity against a real Prometheus 2.42 (Debian package) that
 * scrapes a one-gauge exporter served by this test every second.
 */
let exporter: Server;
let prometheus: PrometheusProcess;
let client: PrometheusClient;
let failureRatio = 0.01;

const METRIC = 'incidentflow_test_failure_ratio';
const HEALTHY = `${METRIC}{dag_id="etl"} < 0.05`;

beforeAll(async () => {
  exporter = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE ${METRIC} gauge\n${METRIC}{dag_id="etl"} ${failureRatio}\n`);
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  prometheus = await startPrometheus([`127.0.0.1:${(exporter.address() as AddressInfo).port}`]);
  client = createPrometheusClient({ baseUrl: prometheus.url });
  await eventually(
    async () => ((await client.holds(`up{job="exporter"} == 1`)) ? true : undefined),
    30_000,
    'first scrape',
  );
});

afterAll(async () => {
  await prometheus?.close();
  exporter?.closeAllConnections();
  await new Promise<void>((resolve) => (exporter ? exporter.close(() => resolve()) : resolve()));
});

async function setRatio(value: number): Promise<void> {
  failureRatio = value;
  await eventually(
    async () => {
      const r = await client.query(METRIC);
      return r.result[0]?.value[1] === String(value) ? true : undefined;
    },
    20_000,
    `${METRIC} = ${value}`,
  );
}

function runCheck(input: PrometheusAwaitCheckInput): Promise<PrometheusAwaitCheckResult> {
  const { prometheusAwaitCheck } = createPrometheusActivities({ prometheus: client, clock: systemClock });
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  return env.run<[PrometheusAwaitCheckInput], PrometheusAwaitCheckResult, typeof prometheusAwaitCheck>(
    prometheusAwaitCheck,
    input,
  );
}

describe('Prometheus adapter against a real Prometheus', () => {
  it('returns the scraped series with its labels', async () => {
    await setRatio(0.01);
    const r = await client.query(METRIC);
    expect(r.resultType).toBe('vector');
    expect(r.result).toHaveLength(1);
    expect(r.result[0]!.metric).toEqual({
      __name__: METRIC,
      dag_id: 'etl',
      instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      job: 'exporter',
    });
    expect(r.result[0]!.value[1]).toBe('0.01');
  });

  it('holds while the filter expression matches and stops holding when it does not', async () => {
    await setRatio(0.01);
    expect(await client.holds(HEALTHY)).toBe(true);
    await setRatio(0.5);
    expect(await client.holds(HEALTHY)).toBe(false);
  });

  it('classifies a malformed expression as a final Rejected error', async () => {
    const err = await client.query('sum(').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ type: ErrorType.Rejected, retryable: false, status: 400 });
    expect((err as Error).message).toMatch(/^prometheus GET \/api\/v1\/query: 400 bad_data: .*parse error/);
  });

  it('reports the check as held after the expression held for the whole period', async () => {
    await setRatio(0.01);
    const start = Date.now();
    const result = await runCheck({
      expr: HEALTHY,
      holdForMs: 2_000,
      deadlineAtMs: start + 20_000,
      pollIntervalMs: 250,
    });
    expect(result.held).toBe(true);
    if (!result.held) return;
    expect(result.since).toBeGreaterThanOrEqual(start);
    expect(Date.now() - result.since).toBeGreaterThanOrEqual(2_000);
    expect(result.samples[0]!.metric.dag_id).toBe('etl');
  });

  it('reports the check as not held at the deadline while the failure ratio stays high', async () => {
    await setRatio(0.5);
    const start = Date.now();
    const result = await runCheck({
      expr: HEALTHY,
      holdForMs: 1_000,
      deadlineAtMs: start + 2_000,
      pollIntervalMs: 250,
    });
    expect(result).toMatchObject({
      held: false,
      reason: `no data for \`${HEALTHY}\` at the deadline`,
      lastValue: null,
      since: null,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(start + 2_000);
  });

  it('fails the check activity for good on a malformed expression', async () => {
    const err = await runCheck({
      expr: 'rate(',
      holdForMs: 0,
      deadlineAtMs: Date.now() + 5_000,
      pollIntervalMs: 250,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: ErrorType.Rejected, nonRetryable: true });
  });
});

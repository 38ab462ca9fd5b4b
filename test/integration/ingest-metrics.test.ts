/**
 * Ingest and scrape-time metrics of the real API (buildTestApp) on a real Temporal dev server: rejections
 * by reason, deduplication, ingest latency, open incidents from visibility and who is on call.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveSignal } from '../../src/workflows/definitions';
import { alertmanagerPayload, uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { parseMetrics, type Sample, samplesOf, valueOf } from '../helpers/metrics-text';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const TOKEN = 'metrics-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { 'content-type': 'application/json' };
const address = process.env.TEMPORAL_TEST_ADDRESS!;
const taskQueue = uniqueTaskQueue('ingest-metrics');

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;

beforeAll(async () => {
  env = await devServerEnv();
  worker = await startTestWorker(env, { taskQueue });
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

// A fresh API (and registry) per test: every assertion reads exact counts.
beforeEach(() => {
  testApp = buildTestApp({ address, taskQueue, token: TOKEN, bodyLimit: 4_096 });
});

afterEach(async () => {
  await testApp?.close();
});

async function scrape(app = testApp): Promise<Sample[]> {
  const res = await app.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return parseMetrics(res.body);
}

function post(url: string, payload: string, headers: Record<string, string> = { ...json, ...auth }) {
  return testApp.app.inject({ method: 'POST', url, headers, payload });
}

/** Non-zero `incidentflow_alerts_rejected_total` series as `source/reason=n`. */
function rejections(samples: Sample[]): string[] {
  return samplesOf(samples, 'incidentflow_alerts_rejected_total')
    .filter((s) => s.value !== 0)
    .map((s) => `${s.labels.source}/${s.labels.reason}=${s.value}`);
}

const received = (samples: Sample[], source: string, outcome: string) =>
  valueOf(samples, 'incidentflow_alerts_received_total', { source, outcome });

describe('ingest metrics', () => {
  it('starts with every source and reason of rejections, deduplication and latency at 0', async () => {
    const samples = await scrape();
    const sources = ['alertmanager', 'generic', 'airflow', 'data_quality'];
    const reasons = ['invalid_payload', 'unauthorized', 'too_large', 'unavailable'];
    expect(samplesOf(samples, 'incidentflow_alerts_rejected_total').map((s) => s.labels)).toEqual(
      expect.arrayContaining(sources.flatMap((source) => reasons.map((reason) => ({ source, reason })))),
    );
    expect(samplesOf(samples, 'incidentflow_alerts_rejected_total')).toHaveLength(16);
    expect(
      samplesOf(samples, 'incidentflow_alerts_deduplicated_total').map((s) => [s.labels.source, s.value]),
    ).toEqual(sources.map((s) => [s, 0]));
    expect(
      samplesOf(samples, 'incidentflow_ingest_latency_seconds_count').map((s) => [s.labels.source, s.value]),
    ).toEqual(sources.map((s) => [s, 0]));
  });

  it('counts a payload that fails validation as invalid_payload under its source', async () => {
    const res = await post('/api/v1/alerts/alertmanager', JSON.stringify({ version: '4', alerts: 'nope' }));
    expect(res.statusCode).toBe(400);
    const samples = await scrape();
    expect(rejections(samples)).toEqual(['alertmanager/invalid_payload=1']);
    expect(received(samples, 'alertmanager', 'rejected')).toBe(1);
  });

  it('counts a body that is not JSON as invalid_payload', async () => {
    const res = await post('/api/v1/alerts', '{"name": ');
    expect(res.statusCode).toBe(400);
    const samples = await scrape();
    expect(rejections(samples)).toEqual(['generic/invalid_payload=1']);
    expect(received(samples, 'generic', 'rejected')).toBe(1);
  });

  it('counts a request without the right token as unauthorized', async () => {
    const res = await post('/api/v1/alerts/alertmanager', JSON.stringify(alertmanagerPayload([{}])), {
      ...json,
      authorization: 'Bearer wrong',
    });
    expect(res.statusCode).toBe(401);
    const samples = await scrape();
    expect(rejections(samples)).toEqual(['alertmanager/unauthorized=1']);
    expect(received(samples, 'alertmanager', 'rejected')).toBe(1);
  });

  it('counts a body over the limit as too_large', async () => {
    const res = await post('/api/v1/alerts', JSON.stringify({ name: 'Big', summary: 'x'.repeat(8_000) }));
    expect(res.statusCode).toBe(413);
    const samples = await scrape();
    expect(rejections(samples)).toEqual(['generic/too_large=1']);
    expect(received(samples, 'generic', 'rejected')).toBe(1);
  });

  it('counts an exact re-delivery as deduplicated and observes latency only for the delivery that reached Temporal', async () => {
    const payload = JSON.stringify(
      alertmanagerPayload([{ labels: { dedup_key: uniqueKey('dup'), service: 'customer_etl' } }]),
    );
    expect((await post('/api/v1/alerts/alertmanager', payload)).statusCode).toBe(202);
    expect((await post('/api/v1/alerts/alertmanager', payload)).statusCode).toBe(202);
    const samples = await scrape();
    expect(valueOf(samples, 'incidentflow_alerts_deduplicated_total', { source: 'alertmanager' })).toBe(1);
    expect(received(samples, 'alertmanager', 'duplicate')).toBe(1);
    expect(received(samples, 'alertmanager', 'accepted')).toBe(1);
    expect(valueOf(samples, 'incidentflow_ingest_latency_seconds_count', { source: 'alertmanager' })).toBe(1);
    const sum = valueOf(samples, 'incidentflow_ingest_latency_seconds_sum', { source: 'alertmanager' })!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(5);
    expect(rejections(samples)).toEqual([]);
  });

  it('observes the latency of an Airflow callback alert under the airflow source', async () => {
    const alert = {
      name: 'AirflowTaskFailed',
      source: 'airflow',
      labels: { dag_id: 'm_etl', task_id: 't' },
      dedup_key: uniqueKey('af'),
    };
    expect((await post('/api/v1/alerts', JSON.stringify(alert))).statusCode).toBe(202);
    const samples = await scrape();
    expect(valueOf(samples, 'incidentflow_ingest_latency_seconds_count', { source: 'airflow' })).toBe(1);
    expect(valueOf(samples, 'incidentflow_ingest_latency_seconds_count', { source: 'generic' })).toBe(0);
  });

  it('counts alerts answered 503 while Temporal is unreachable as unavailable, once per request', async () => {
    const down = buildTestApp({ address: '127.0.0.1:1', taskQueue, token: TOKEN, callTimeoutMs: 300 });
    try {
      const res = await down.app.inject({
        method: 'POST',
        url: '/api/v1/alerts/alertmanager',
        headers: { ...json, ...auth },
        payload: JSON.stringify(
          alertmanagerPayload([
            { labels: { dedup_key: uniqueKey('a') } },
            { labels: { dedup_key: uniqueKey('b') } },
          ]),
        ),
      });
      expect(res.statusCode).toBe(503);
      const samples = await scrape(down);
      expect(rejections(samples)).toEqual(['alertmanager/unavailable=1']);
      expect(received(samples, 'alertmanager', 'unavailable')).toBe(2);
      expect(valueOf(samples, 'incidentflow_ingest_latency_seconds_count', { source: 'alertmanager' })).toBe(
        0,
      );
      expect(
        valueOf(samples, 'incidentflow_metrics_collect_errors_total', { collector: 'open_incidents' }),
      ).toBe(1);
    } finally {
      await down.close();
    }
  });
});

describe('scrape-time collectors', () => {
  const openOf = (samples: Sample[], service: string) =>
    samplesOf(samples, 'incidentflow_open_incidents')
      .filter((s) => s.labels.service === service)
      .map((s) => [s.labels.severity, s.value]);

  it('counts an open incident by severity and service until it is resolved', async () => {
    const service = uniqueKey('svc');
    const payload = alertmanagerPayload([
      { labels: { dedup_key: uniqueKey('open'), service, severity: 'P2' } },
    ]);
    const res = await post('/api/v1/alerts/alertmanager', JSON.stringify(payload));
    expect(res.statusCode).toBe(202);
    await eventually(async () => ((openOf(await scrape(), service)[0]?.[1] ?? 0) === 1 ? true : undefined));
    expect(openOf(await scrape(), service)).toEqual([['P2', 1]]);

    const id = res.json<{ incidents: Array<{ incidentId: string }> }>().incidents[0]!.incidentId;
    await env.client.workflow
      .getHandle(id)
      .signal(resolveSignal, { user: 'alice', requestId: uniqueKey('r') });
    await eventually(async () => (openOf(await scrape(), service).length === 0 ? true : undefined));
  });

  it('names who is on call now from the shipped on-call config', async () => {
    const info = samplesOf(await scrape(), 'incidentflow_oncall_info');
    expect(info.map((s) => [s.labels.schedule, s.labels.role, s.labels.person, s.value])).toEqual(
      expect.arrayContaining([
        ['', 'manager', 'erin', 1],
        ['', 'team_lead', 'frank', 1],
      ]),
    );
    expect(info.filter((s) => s.labels.role === 'primary').map((s) => s.labels.schedule)).toEqual([
      'data-platform',
    ]);
  });
});

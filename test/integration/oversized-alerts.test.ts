/**
 * ~900 KB alerts through the real API to a real Temporal dev server: nothing is refused for size below the
 * body limit, the incident opens, and oversized values arrive truncated with the visible marker.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_ALERT_CAPS } from '../../src/domain/alert-bounds';
import type { IncidentView } from '../../src/domain/incident-view';
import { isClipped, utf8Bytes } from '../../src/domain/text-bounds';
import { incidentQuery, resolveSignal } from '../../src/workflows/definitions';
import { alertmanagerPayload, uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
const taskQueue = uniqueTaskQueue('oversized');
const address = process.env.TEMPORAL_TEST_ADDRESS!;
const opened: string[] = [];

beforeAll(async () => {
  env = await devServerEnv();
  worker = await startTestWorker(env, { taskQueue });
  testApp = buildTestApp({ address, taskQueue, token: 'secret-token' });
});

afterAll(async () => {
  for (const id of opened)
    await env.client.workflow
      .getHandle(id)
      .signal(resolveSignal, { user: 'test' })
      .catch(() => undefined);
  await testApp?.close();
  await worker?.stop();
  await env?.teardown();
});

function post(url: string, body: unknown) {
  return testApp.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token' },
    payload: JSON.stringify(body),
  });
}

async function view(workflowId: string): Promise<IncidentView> {
  return env.client.workflow.getHandle(workflowId).query(incidentQuery);
}

const marked = (value: string | undefined, cap: number): void => {
  expect(value).toBeDefined();
  expect(isClipped(value!)).toBe(true);
  expect(utf8Bytes(value!)).toBeLessThanOrEqual(cap);
};

it('three ~900 KB Alertmanager alerts open one incident with every value truncated and marked', async () => {
  const key = uniqueKey('huge');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const payload = alertmanagerPayload(
      [
        {
          fingerprint: `huge${String(i).padStart(12, '0')}`,
          labels: { dedup_key: key, service: 'customer_etl', stack: 'x'.repeat(440_000) },
          annotations: { summary: 's'.repeat(440_000), runbook_url: 'http://wiki/runbook' },
        },
      ],
      { groupKey: `{}:{dedup_key="${key}"}` },
    );
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeGreaterThan(880_000);
    const res = await post('/api/v1/alerts/alertmanager', payload);
    expect(res.statusCode).toBe(202);
    const body = res.json<{ truncated: number; incidents: Array<{ incidentId: string }> }>();
    expect(body.truncated).toBe(1);
    ids.push(body.incidents[0]!.incidentId);
  }
  expect(new Set(ids).size).toBe(1);
  const incidentId = ids[0]!;
  opened.push(incidentId);

  const v = await eventually(
    async () => {
      const current = await view(incidentId);
      return current.alerts.length === 3 ? current : undefined;
    },
    30_000,
    'three alerts in the incident',
  );
  expect(v.status).toBe('triggered');
  expect(v.counters.alertsTruncated).toBe(3);
  marked(v.title, DEFAULT_ALERT_CAPS.maxSummaryBytes);
  for (const alert of v.alerts) {
    marked(alert.summary, DEFAULT_ALERT_CAPS.maxSummaryBytes);
    marked(alert.labels.stack, DEFAULT_ALERT_CAPS.maxLabelValueBytes);
    expect(alert.labels.dedup_key).toBe(key);
    expect(alert.truncation).toEqual({ labelsDropped: 0, annotationsDropped: 0, valuesTruncated: 2 });
  }
  expect(utf8Bytes(JSON.stringify(v))).toBeLessThan(64 * 1024);
});

it('a generic alert with a ~900 KB annotations.summary is truncated, not refused', async () => {
  const name = uniqueKey('GenericHuge');
  const res = await post('/api/v1/alerts', {
    name,
    labels: { service: 'customer_etl', dedup_key: name },
    annotations: { summary: 'g'.repeat(900_000) },
  });
  expect(res.statusCode).toBe(202);
  const body = res.json<{ truncated: number; incidents: Array<{ incidentId: string }> }>();
  expect(body.truncated).toBe(1);
  const incidentId = body.incidents[0]!.incidentId;
  opened.push(incidentId);
  const v = await eventually(
    async () => {
      const current = await view(incidentId);
      return current.alerts.length === 1 ? current : undefined;
    },
    30_000,
    'the generic alert in its incident',
  );
  marked(v.alerts[0]!.summary, DEFAULT_ALERT_CAPS.maxSummaryBytes);
});

it('a body over the limit is still a 413 that names the limit', async () => {
  const res = await post('/api/v1/alerts', {
    name: 'TooBig',
    annotations: { summary: 'z'.repeat(1_100_000) },
  });
  expect(res.statusCode).toBe(413);
  expect(res.json()).toEqual({
    error: 'payload_too_large',
    message: 'request body exceeds the limit of 1048576 bytes',
  });
});

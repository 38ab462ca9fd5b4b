/**
 * Orphaned alerts against the real Alertmanager 0.25: an alert silenced after it fired never gets a
 * "resolved" notification (Alertmanager issue #226). The open incident reconciles its alerts with
 * `GET /api/v2/alerts` on a slow timer and resolves; an alert that is still active keeps its incident open.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentQuery } from '../../src/workflows/definitions';
import { uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { type ManagedServer, startAlertmanager } from '../helpers/prometheus-stack';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const TOKEN = 'am-token';
let env: TestWorkflowEnvironment;
let alertmanager: ManagedServer;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
let dir: string;
const taskQueue = uniqueTaskQueue('orphans');

beforeAll(async () => {
  env = await devServerEnv();
  testApp = buildTestApp({
    address: process.env.TEMPORAL_TEST_ADDRESS!,
    taskQueue,
    token: TOKEN,
    settings: {
      autoResolveGraceMs: 1_000,
      reconcileIntervalMs: 2_000,
      features: { slack: false, store: false, pagerduty: false, alertmanager: true },
    },
  });
  await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  const api = `http://127.0.0.1:${(testApp.app.server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'incidentflow-orphans-'));
  alertmanager = await startAlertmanager(
    dir,
    `route:
  receiver: incidentflow
  group_by: [alertname, dedup_key]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: incidentflow
    webhook_configs:
      - url: ${api}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config: { authorization: { credentials: ${TOKEN} } }
`,
  );
  worker = await startTestWorker(env, { taskQueue, env: { ALERTMANAGER_URL: alertmanager.url } });
});

afterAll(async () => {
  await worker?.stop();
  await alertmanager?.stop();
  await testApp?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Pushes an alert to Alertmanager like Prometheus does (valid for an hour). */
async function fire(labels: Record<string, string>): Promise<void> {
  const now = new Date();
  const res = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels,
        annotations: { summary: `${labels.alertname} firing` },
        startsAt: now.toISOString(),
        endsAt: new Date(now.getTime() + 3_600_000).toISOString(),
      },
    ]),
  });
  expect(res.status).toBe(200);
}

async function silence(labels: Record<string, string>): Promise<void> {
  const now = new Date();
  const res = await fetch(`${alertmanager.url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: Object.entries(labels).map(([name, value]) => ({
        name,
        value,
        isRegex: false,
        isEqual: true,
      })),
      startsAt: now.toISOString(),
      endsAt: new Date(now.getTime() + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'known issue, muted',
    }),
  });
  expect(res.status).toBe(200);
}

async function incidentFor(dedup: string): Promise<string> {
  const id = `incident:orphan_etl:${dedup}`;
  await eventually(
    async () => {
      const v = await env.client.workflow.getHandle(id).query(incidentQuery);
      return v.alerts.length > 0 ? v : undefined;
    },
    30_000,
    `incident ${id}`,
  );
  return id;
}

describe('orphaned alerts (real Alertmanager)', () => {
  it('resolves an incident whose alert was silenced after it fired, and keeps one whose alert is active', async () => {
    const silenced = { alertname: 'OrphanCheck', service: 'orphan_etl', dedup_key: uniqueKey('silenced') };
    const active = { alertname: 'OrphanCheck', service: 'orphan_etl', dedup_key: uniqueKey('active') };
    await fire(silenced);
    await fire(active);
    const silencedId = await incidentFor(silenced.dedup_key);
    const activeId = await incidentFor(active.dedup_key);

    await silence({ dedup_key: silenced.dedup_key });
    const outcome = await env.client.workflow.getHandle(silencedId).result();
    expect(outcome).toMatchObject({ status: 'resolved', resolution: 'auto' });
    const closed = await env.client.workflow.getHandle(silencedId).query(incidentQuery);
    expect(
      closed.timeline.some((e) =>
        e.text.includes('treated as resolved: silenced or inhibited in Alertmanager'),
      ),
    ).toBe(true);

    // Several reconciliations later the active alert's incident is still open.
    await new Promise((r) => setTimeout(r, 5_000));
    const open = await env.client.workflow.getHandle(activeId).query(incidentQuery);
    expect(open.status).not.toBe('resolved');
    expect(open.alerts[0]!.status).toBe('firing');
  });
});

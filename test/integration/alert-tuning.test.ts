/**
 * The monthly alert-tuning report: the workflow on a real worker (real learn and Slack activities) against
 * the incident store on PostgreSQL, posting to the Slack double; and the same report from the API.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentKeyOf } from '../../src/domain/incident-record';
import { alertTuningReportWorkflow } from '../../src/workflows';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { buildTestApp } from '../helpers/app';
import { openTestStore, type TestStore } from '../helpers/store';
import { devServerEnv, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const DAY = 86_400_000;
const TOKEN = 'tuning-t0k3n';

let env: TestWorkflowEnvironment;
let stored: TestStore;
let slack: SlackDouble;
const withSlack = uniqueTaskQueue('tuning-slack');
const withoutSlack = uniqueTaskQueue('tuning-noslack');
const workers: Array<Awaited<ReturnType<typeof startTestWorker>>> = [];

const flapLine =
  '- `SchedulerHeartbeatMissing` (fingerprint `fp-hb`) — fired 5 times (4 refires) in 1 incident';

beforeAll(async () => {
  env = await devServerEnv();
  stored = await openTestStore('postgres');
  await stored.store.migrate();
  slack = await startSlackDouble({ token: 'xoxb-tuning' });
  // A flapping alert two days ago: it refired 4 times and cleared on its own.
  const openedAt = new Date(Date.now() - 2 * DAY).toISOString();
  const incidentKey = incidentKeyOf('incident:airflow:hb', openedAt);
  await stored.store.upsertIncident({
    incidentKey,
    workflowId: 'incident:airflow:hb',
    incidentType: 'scheduler',
    service: 'airflow',
    severity: 'P3',
    title: 'Scheduler heartbeat missing',
    dedupKey: 'hb',
    status: 'resolved',
    openedAt,
    resolvedAt: new Date(Date.parse(openedAt) + 30 * 60_000).toISOString(),
    outcome: 'auto_resolved',
  });
  await stored.store.recordAlerts(incidentKey, [
    {
      fingerprint: 'fp-hb',
      name: 'SchedulerHeartbeatMissing',
      labels: { alertname: 'SchedulerHeartbeatMissing' },
      firstFiredAt: openedAt,
      resolvedAt: new Date(Date.parse(openedAt) + 25 * 60_000).toISOString(),
      refires: 4,
    },
  ]);
  workers.push(
    await startTestWorker(env, {
      taskQueue: withSlack,
      env: { SLACK_BOT_TOKEN: 'xoxb-tuning', SLACK_API_URL: slack.apiUrl },
      store: stored.store,
    }),
    await startTestWorker(env, { taskQueue: withoutSlack, store: stored.store }),
  );
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await slack?.close();
  await stored?.cleanup();
  await env?.teardown();
});

describe('alertTuningReportWorkflow', () => {
  it('posts the report with the flapping alert to the Slack channel', async () => {
    const result = await env.client.workflow.execute(alertTuningReportWorkflow, {
      taskQueue: withSlack,
      workflowId: `alert-tuning-test-${withSlack}`,
      args: [{ channel: '#data-platform' }],
    });
    expect(result.report.flapping).toEqual([
      { name: 'SchedulerHeartbeatMissing', fingerprint: 'fp-hb', fires: 5, refires: 4, incidents: 1 },
    ]);
    expect(result.slack).toEqual({ channel: slack.channelId('#data-platform'), ts: expect.any(String) });
    const posted = slack.messages('#data-platform');
    expect(posted).toHaveLength(1);
    expect(posted[0]!.text).toBe(result.markdown);
    expect(posted[0]!.text).toContain(flapLine);
  });

  it('only returns the report when the worker has no Slack', async () => {
    const before = slack.callsTo('chat.postMessage').length;
    const result = await env.client.workflow.execute(alertTuningReportWorkflow, {
      taskQueue: withoutSlack,
      workflowId: `alert-tuning-test-${withoutSlack}`,
      args: [{}],
    });
    expect(result.slack).toBeUndefined();
    expect(result.markdown).toContain(flapLine);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(before);
  });

  it('leaves alerts older than the period out', async () => {
    const result = await env.client.workflow.execute(alertTuningReportWorkflow, {
      taskQueue: withoutSlack,
      workflowId: `alert-tuning-test-1d-${withoutSlack}`,
      args: [{ periodDays: 1 }],
    });
    expect(result.report.totals).toEqual({
      incidents: 0,
      alerts: 0,
      autoResolved: 0,
      alertsWithoutAction: 0,
    });
  });
});

describe('GET /api/v1/reports/alert-tuning', () => {
  let testApp: ReturnType<typeof buildTestApp>;
  beforeAll(() => {
    testApp = buildTestApp({
      address: process.env.TEMPORAL_TEST_ADDRESS!,
      taskQueue: withoutSlack,
      token: TOKEN,
      store: stored.store,
    });
  });
  afterAll(() => testApp?.close());

  const auth = { authorization: `Bearer ${TOKEN}` };

  it('computes the report over the last days from the store', async () => {
    const res = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/reports/alert-tuning?days=30',
      headers: auth,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ report: { flapping: unknown[] }; markdown: string }>();
    expect(body.report.flapping).toEqual([
      { name: 'SchedulerHeartbeatMissing', fingerprint: 'fp-hb', fires: 5, refires: 4, incidents: 1 },
    ]);
    expect(body.markdown).toContain(flapLine);
  });

  it('answers the markdown alone for Accept: text/markdown', async () => {
    const res = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/reports/alert-tuning',
      headers: { ...auth, accept: 'text/markdown' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(res.body).toContain(flapLine);
  });

  it('rejects a period out of range naming the parameter', async () => {
    const res = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/reports/alert-tuning?days=0',
      headers: auth,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('invalid query string: days: Too small: expected number to be >=1');
  });
});

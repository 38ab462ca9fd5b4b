import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSlackClient } from '../../src/adapters/slack';
import { createIncidentActions } from '../../src/api/incident-actions';
import type { SlackIncidentPort } from '../../src/api/slack/handlers';
import { incidentQuery } from '../../src/workflows/definitions';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { blockActions, buildSlackApp, captureLogs, interactionBody, signed, value } from '../helpers/slack';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

/**
 * Slack clicks through the real incident actions port into a real incident workflow: the workflow
 * authorizes approvals against oncall.yaml and its recorded outcome reaches the clicker ephemerally.
 */
let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
let slack: SlackDouble;
const taskQueue = uniqueTaskQueue('slack');

beforeAll(async () => {
  env = await devServerEnv();
  worker = await startTestWorker(env, { taskQueue });
  testApp = buildTestApp({ address: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue });
  slack = await startSlackDouble({ token: 'xoxb-test' });
});

afterAll(async () => {
  await slack?.close();
  await testApp?.close();
  await worker?.stop();
  await env?.teardown();
});

describe('Slack ChatOps against a real incident workflow', () => {
  it('starts a runbook, refuses a non-approver, approves once on a double click and resolves, telling each clicker', async () => {
    const res = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/alerts',
      payload: {
        name: 'DagDeploymentRegression',
        source: 'generic',
        severity: 'P2',
        labels: { incident_type: 'dag_deployment_regression', dag_id: 'customer_etl' },
        summary: 'customer_etl fails since deployment v2.3.1',
        dedup_key: uniqueKey('slack'),
      },
    });
    expect(res.statusCode).toBe(202);
    const incident = res.json<{ incidents: Array<{ incidentId: string }> }>().incidents[0]!.incidentId;

    const real = createIncidentActions({ temporal: testApp.temporal, outcomeWaitMs: 5_000 });
    let acts = 0;
    const port: SlackIncidentPort = {
      act: (...args) => {
        acts += 1;
        return real.act(...args);
      },
      view: real.view,
      list: real.list,
    };
    const client = createSlackClient({ token: 'xoxb-test', slackApiUrl: slack.apiUrl, timeoutMs: 2_000 });
    const { app, handlers } = buildSlackApp({ port, client, logs: captureLogs() });
    let ts = 0;
    const clickAs = async (
      user: string,
      actionId: string,
      v: string,
      headers: Record<string, string> = {},
    ) => {
      const payload = blockActions({
        user,
        actionId,
        value: v,
        actionTs: `1764064${String(++ts).padStart(3, '0')}.000100`,
        responseUrl: slack.responseUrl(),
      });
      const req = signed(interactionBody(payload));
      const answer = await app.inject({
        method: 'POST',
        url: '/slack/interactions',
        payload: req.payload,
        headers: { ...req.headers, ...headers },
      });
      expect(answer.statusCode).toBe(200);
      return { payload, req };
    };
    const texts = () => slack.responses.map((r) => (r.body as { text: string }).text);

    await clickAs(
      'U01ALICE',
      'incident_run_runbook:dag_deployment_regression',
      value(incident, { r: 'dag_deployment_regression' }),
    );
    await handlers.drain();
    expect(texts()).toEqual(['✅ Runbook dag_deployment_regression started']);

    const handle = env.client.workflow.getHandle(incident);
    const pending = await eventually(async () => {
      const v = await handle.query(incidentQuery);
      return v.pendingApprovals[0];
    });
    expect(pending.stepId).toBe('approve_rollback');
    const approver = pending.allowed[0]!;
    const outsider = ['U01ALICE', 'U01BOBPK', 'U01CAROL', 'U01DAVEM', 'U01ERINC', 'U01FRANK'].find(
      (id) => !pending.allowed.some((a) => a.slackUserId === id),
    )!;
    const approve = value(incident, { s: 'approve_rollback' });

    slack.reset();
    const refused = await clickAs(outsider, 'incident_approve', approve);
    // Slack retries the same delivery: acknowledged, not sent again.
    const retry = await app.inject({
      method: 'POST',
      url: '/slack/interactions',
      payload: refused.req.payload,
      headers: { ...refused.req.headers, 'x-slack-retry-num': '1' },
    });
    expect(retry.statusCode).toBe(200);
    await handlers.drain();
    const allowedNames = pending.allowed.map((a) => a.name).join(', ');
    expect(texts()).toEqual([
      `⛔ <@${outsider}> is not an allowed approver for this step (allowed: ${allowedNames})`,
    ]);

    slack.reset();
    // A double click: two deliveries with their own action_ts; the workflow decides once.
    await clickAs(approver.slackUserId!, 'incident_approve', approve);
    await clickAs(approver.slackUserId!, 'incident_approve', approve);
    await handlers.drain();
    expect(texts().sort()).toEqual(
      [
        `✅ ${approver.name} approved approve_rollback`,
        `✅ ${approver.name} already decided on approve_rollback`,
      ].sort(),
    );

    slack.reset();
    await clickAs(approver.slackUserId!, 'incident_resolve', value(incident));
    await handlers.drain();
    expect(texts()).toEqual([`✅ Resolved by ${approver.name}`]);

    // run_runbook, refused approve (once despite the retry), two approves, resolve.
    expect(acts).toBe(5);
    const view = await handle.query(incidentQuery);
    expect(view.status).toBe('resolved');
    expect(view.resolution).toEqual({ reason: 'manual', by: approver.name, note: 'resolved from Slack' });
    expect(view.timeline.filter((e) => e.kind === 'approval_refused')).toHaveLength(1);
    expect(view.timeline.filter((e) => e.kind === 'approval_recorded')).toHaveLength(1);
  });
});

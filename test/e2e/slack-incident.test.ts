/**
 * Slack ChatOps end to end on the real dev server: an alert comes in → the incident message is posted once
 * (even though Slack answers 429 twice) → an Acknowledge click stops the escalation → a Resolve click →
 * the message shows the incident resolved. Real worker activities against the Slack and Twilio doubles.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSlackClient } from '../../src/adapters/slack';
import { createIncidentActions } from '../../src/api/incident-actions';
import { loadConfig } from '../../src/config/load-config';
import { SlackAction } from '../../src/domain/slack-message';
import {
  acknowledgeSignal,
  commentSignal,
  incidentQuery,
  resolveSignal,
} from '../../src/workflows/definitions';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { startTwilioDouble, type TwilioDouble } from '../doubles/twilio-double';
import { alertmanagerPayload, uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { blockActions, buildSlackApp, interactionBody, signed } from '../helpers/slack';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const SID = 'AC0123456789abcdef0123456789abcdef';
let env: TestWorkflowEnvironment;
let slack: SlackDouble;
let twilio: TwilioDouble;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
const taskQueue = uniqueTaskQueue('slack-e2e');

// L2 after 10 seconds instead of 10 minutes, so the test can watch the escalation stop.
const dir = mkdtempSync(join(tmpdir(), 'incidentflow-slack-e2e-'));
cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
writeFileSync(
  join(dir, 'escalation-policies.yaml'),
  `policies:
  default:
    levels:
      - { name: L1 Slack alert, delay: 0s, targets: [{ slack_channel: $incident }], channels: [slack] }
      - { name: L2 primary, delay: 10s, targets: [{ role: primary }], channels: [sms] }
`,
);
const config = loadConfig(dir);

beforeAll(async () => {
  env = await devServerEnv();
  slack = await startSlackDouble({ token: 'xoxb-test' });
  twilio = await startTwilioDouble({ accountSid: SID, authToken: 'secret' });
  worker = await startTestWorker(env, {
    taskQueue,
    config,
    env: {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: slack.apiUrl,
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: 'secret',
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_URL: twilio.url,
    },
  });
  testApp = buildTestApp({
    address: process.env.TEMPORAL_TEST_ADDRESS!,
    taskQueue,
    config,
    settings: {
      features: { slack: true, store: false, pagerduty: false, alertmanager: false },
      defaultSlackChannel: '#data-incidents',
      slackDebounceMs: 200,
    },
  });
});

afterAll(async () => {
  await testApp?.close();
  await worker?.stop();
  await slack?.close();
  await twilio?.close();
  await env?.teardown();
});

describe('Slack ChatOps end to end', () => {
  it('posts once despite 429s, stops escalating on Acknowledge and shows the resolution after Resolve', async () => {
    const channel = slack.channelId('#data-incidents');
    // Slack rate-limits the first two attempts to post.
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 2);
    const dag = uniqueKey('customer_etl');
    const res = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/alertmanager',
      payload: alertmanagerPayload([
        {
          labels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: dag, severity: 'P2' },
          annotations: { summary: 'airflow_task_fail_rate > 50% for 5m' },
        },
      ]),
    });
    expect(res.statusCode).toBe(202);
    const incidentId = res.json<{ incidents: Array<{ incidentId: string }> }>().incidents[0]!.incidentId;
    const handle = env.client.workflow.getHandle(incidentId);

    const root = await eventually(
      () =>
        Promise.resolve(
          slack
            .messages(channel)
            .find(
              (m) =>
                m.threadTs === undefined && m.blocks?.some((b) => JSON.stringify(b).includes(incidentId)),
            ),
        ),
      30_000,
      'the incident message',
    );
    const rateLimited = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429);
    expect(rateLimited).toHaveLength(2);

    // The Acknowledge button as rendered in the message, clicked by the on-call primary.
    const buttons = (root.blocks ?? []).flatMap((b) =>
      (b as { type: string }).type === 'actions'
        ? (b as { elements: Array<{ action_id: string; value: string }> }).elements
        : [],
    );
    const ack = buttons.find((b) => b.action_id === SlackAction.acknowledge)!;
    expect(ack).toBeDefined();
    const actions = createIncidentActions({
      temporal: testApp.temporal,
      people: () => config.oncall.people,
      outcomeWaitMs: 5_000,
    });
    const client = createSlackClient({ token: 'xoxb-test', slackApiUrl: slack.apiUrl });
    const { app, handlers } = buildSlackApp({ port: actions, client });
    const click = async (user: string, actionId: string, value: string, ts: string) => {
      const payload = blockActions({ user, actionId, value, actionTs: ts, responseUrl: slack.responseUrl() });
      const req = signed(interactionBody(payload));
      const r = await app.inject({
        method: 'POST',
        url: '/slack/interactions',
        headers: req.headers,
        payload: req.payload,
      });
      expect(r.statusCode).toBe(200);
      await handlers.drain();
    };
    await click('U01ALICE', SlackAction.acknowledge, ack.value, '1764070000.000100');
    const acked = await eventually(async () => {
      const v = await handle.query(incidentQuery);
      return v.acknowledgedBy ? v : undefined;
    });
    expect(acked.acknowledgedBy).toBe('Alice Kim');
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toContain(
      '✅ Acknowledged by Alice Kim; paging stopped',
    );

    // The message catches up with the acknowledgement, however long the edit in flight took.
    const edited = await eventually(
      () => {
        const m = slack.message(channel, root.ts)!;
        return Promise.resolve(
          JSON.stringify(m.blocks).includes('acknowledged by Alice Kim') ? m : undefined,
        );
      },
      30_000,
      'the acknowledged message',
    );
    // L2 was due 10 seconds after the incident opened. Once the clock is past that instant, a comment
    // stamps the workflow's own time: everything due before it has run, and L2 was not paged.
    const l2Due = Date.parse(acked.openedAt) + 10_000;
    await eventually(
      () => Promise.resolve(Date.now() > l2Due + 1_000 || undefined),
      30_000,
      'the L2 deadline',
    );
    await handle.signal(commentSignal, { user: 'alice', name: 'Alice Kim', text: 'checking the DAG' });
    const quiet = await eventually(
      async () => {
        const v = await handle.query(incidentQuery);
        return v.timeline.some((e) => e.kind === 'comment' && Date.parse(e.at) > l2Due) ? v : undefined;
      },
      30_000,
      'the comment after the L2 deadline',
    );
    expect(quiet.escalation?.pagedAt['2']).toBeUndefined();
    expect(twilio.requests.filter((r) => r.form.Body?.includes(dag))).toHaveLength(0);

    const resolveButton = (
      (edited.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>
    )
      .flatMap((b) => b.elements ?? [])
      .find((b) => b.action_id === SlackAction.resolve)!;
    await click('U01ALICE', SlackAction.resolve, resolveButton.value, '1764070030.000100');
    await handle.result();
    const final = await eventually(() => {
      const m = slack.message(channel, root.ts)!;
      return Promise.resolve(m.text?.startsWith('Resolved') ? m : undefined);
    });
    expect(JSON.stringify(final.blocks)).toContain('resolved');
    expect(final.blocks?.some((b) => (b as { type: string }).type === 'actions')).toBe(false);
    // Posted exactly once: every later change edited the same message.
    expect(
      slack
        .messages(channel)
        .filter((m) => m.threadTs === undefined && JSON.stringify(m.blocks).includes(incidentId)),
    ).toHaveLength(1);
  });

  it('posts the incident message again when someone deleted it in Slack', async () => {
    const channel = slack.channelId('#data-incidents');
    const dag = uniqueKey('orders_etl');
    const res = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/alertmanager',
      payload: alertmanagerPayload([
        {
          labels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: dag, severity: 'P2' },
          annotations: { summary: 'airflow_task_fail_rate > 50% for 5m' },
        },
      ]),
    });
    expect(res.statusCode).toBe(202);
    const incidentId = res.json<{ incidents: Array<{ incidentId: string }> }>().incidents[0]!.incidentId;
    const handle = env.client.workflow.getHandle(incidentId);
    const roots = (): Array<{ ts: string }> =>
      slack
        .messages(channel)
        .filter((m) => m.threadTs === undefined && JSON.stringify(m.blocks).includes(incidentId));
    const first = await eventually(() => Promise.resolve(roots()[0]), 30_000, 'the incident message');

    slack.deleteMessage(channel, first.ts);
    await handle.signal(acknowledgeSignal, { user: 'alice', name: 'Alice Kim', via: 'api' });

    const again = await eventually(() => Promise.resolve(roots()[0]), 30_000, 'the re-posted message');
    expect(again.ts).not.toBe(first.ts);
    expect(JSON.stringify(slack.message(channel, again.ts)!.blocks)).toContain('acknowledged by Alice Kim');
    const v = await eventually(async () => {
      const view = await handle.query(incidentQuery);
      return view.slack?.ts === again.ts ? view : undefined;
    });
    expect(v.timeline.map((e) => e.text)).toContain(
      `Slack incident message ${first.ts} is gone (slack chat.update: message_not_found); posting it again`,
    );
    await handle.signal(resolveSignal, { user: 'alice', via: 'api' });
    await handle.result();
    // Later edits go to the new message; the deleted one is never posted over again.
    expect(slack.message(channel, again.ts)!.text?.startsWith('Resolved')).toBe(true);
    expect(roots()).toHaveLength(1);
  });
  it('posts the root message and a thread batch once when Slack stored them but the responses were lost', async () => {
    const channel = slack.channelId('#data-incidents');
    const dag = uniqueKey('billing_etl');
    const keyed =
      (part: string) =>
      (body: Record<string, unknown>): boolean => {
        const key = (body.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key;
        return typeof key === 'string' && key.includes(dag) && key.includes(part);
      };
    // Slack stores the root message and the first thread batch, but both responses are lost.
    slack.loseResponseOfNext('chat.postMessage', 1, keyed('/root/'));
    slack.loseResponseOfNext('chat.postMessage', 1, keyed('/thread/'));
    const res = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/alertmanager',
      payload: alertmanagerPayload([
        {
          labels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: dag, severity: 'P2' },
          annotations: { summary: 'airflow_task_fail_rate > 50% for 5m' },
        },
      ]),
    });
    expect(res.statusCode).toBe(202);
    const incidentId = res.json<{ incidents: Array<{ incidentId: string }> }>().incidents[0]!.incidentId;
    const handle = env.client.workflow.getHandle(incidentId);
    await handle.signal(acknowledgeSignal, { user: 'alice', name: 'Alice Kim', via: 'api' });
    const v = await eventually(
      async () => {
        const view = await handle.query(incidentQuery);
        const synced = view.slack?.ts && slack.messages(channel).some((m) => m.threadTs === view.slack!.ts);
        return synced ? view : undefined;
      },
      30_000,
      'the message and its thread',
    );
    const roots = slack
      .messages(channel)
      .filter((m) => m.threadTs === undefined && JSON.stringify(m.blocks).includes(incidentId));
    expect(roots).toHaveLength(1);
    expect(roots[0]!.ts).toBe(v.slack!.ts);

    await handle.signal(resolveSignal, { user: 'alice', via: 'api' });
    await handle.result();
    // The lost responses really happened, and the retries looked the posts up instead of posting again.
    const lost = slack.callsTo('chat.postMessage').filter((c) => c.status === 0);
    expect(lost.length).toBe(2);
    expect(slack.callsTo('conversations.history').length).toBeGreaterThanOrEqual(1);
    expect(slack.callsTo('conversations.replies').length).toBeGreaterThanOrEqual(1);
    const batches = slack
      .messages(channel)
      .filter((m) => m.threadTs === roots[0]!.ts)
      .map((m) => m.text ?? '');
    // No batch was posted twice, and every line is there once.
    expect(new Set(batches).size).toBe(batches.length);
    expect(batches.join('\n').match(/Acknowledged by Alice Kim/g)).toHaveLength(1);
  });
});

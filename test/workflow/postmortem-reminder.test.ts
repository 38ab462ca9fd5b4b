/** The 24 h postmortem review reminder on the time-skipping server, with a real store and the Slack double. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentKeyOf } from '../../src/domain/incident-record';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { openTestStore, type TestStore } from '../helpers/store';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let store: TestStore;
let slack: SlackDouble;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('reminder');

beforeAll(async () => {
  env = await timeSkippingEnv();
  store = await openTestStore('pglite');
  await store.store.migrate();
  slack = await startSlackDouble({ token: 'xoxb-test' });
  worker = await startTestWorker(env, {
    taskQueue,
    store: store.store,
    env: { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: slack.apiUrl },
  });
});

afterAll(async () => {
  await worker?.stop();
  await slack?.close();
  await store?.cleanup();
  await env?.teardown();
});

async function incidentWithPostmortem(id: string): Promise<string> {
  const openedAt = '2026-11-25T09:17:00.000Z';
  const key = incidentKeyOf(id, openedAt);
  await store.store.upsertIncident({
    incidentKey: key,
    workflowId: id,
    incidentType: 'task_temporary_failure',
    service: 'customer_etl',
    severity: 'P2',
    title: 'customer_etl failure',
    dedupKey: id,
    status: 'closed',
    openedAt,
    resolvedAt: '2026-11-25T09:35:00.000Z',
  });
  await store.store.savePostmortem({
    incidentKey: key,
    markdown: '## Incident Summary',
    generatedAt: '2026-11-25T09:36:00.000Z',
  });
  return key;
}

describe('postmortemReminderWorkflow', () => {
  it('reminds the incident thread when the postmortem is not reviewed within 24 hours', async () => {
    const key = await incidentWithPostmortem('incident:customer_etl:reminder-1');
    const channel = slack.channelId('#data-incidents');
    const root = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-test', 'content-type': 'application/json' },
      body: JSON.stringify({ channel: '#data-incidents', text: 'incident' }),
    }).then((r) => r.json() as Promise<{ ts: string }>);
    const result = await env.client.workflow.execute('postmortemReminderWorkflow', {
      taskQueue,
      workflowId: `postmortem-reminder:${key}`,
      args: [
        {
          incidentKey: key,
          incidentId: 'incident:customer_etl:reminder-1',
          number: 'INC-20261125-007',
          slack: { channel, ts: root.ts },
        },
      ],
    });
    expect(result).toBe('reminded');
    const reminder = slack.messages(channel).find((m) => m.threadTs === root.ts);
    expect(reminder?.text).toContain('Reminder: the postmortem of INC-20261125-007 is not reviewed yet');
  });

  it('stays quiet when the postmortem was reviewed in time', async () => {
    const key = await incidentWithPostmortem('incident:customer_etl:reminder-2');
    await store.store.markPostmortemReviewed(key, 'alice', '2026-11-25T12:00:00.000Z');
    const before = slack.calls.length;
    const result = await env.client.workflow.execute('postmortemReminderWorkflow', {
      taskQueue,
      workflowId: `postmortem-reminder:${key}`,
      args: [
        {
          incidentKey: key,
          incidentId: 'incident:customer_etl:reminder-2',
          slack: { channel: 'C1', ts: '1.1' },
        },
      ],
    });
    expect(result).toBe('reviewed');
    expect(slack.calls.length).toBe(before);
  });
});

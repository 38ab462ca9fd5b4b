/**
 * A Slack outage on the time-skipping server. Slack answers 503 to every call for 30 minutes while an
 * incident opens, escalates and is acknowledged: Slack stays enabled for the incident, the outage is noted
 * once, and when Slack answers again the incident message is posted once, already showing the current
 * state, and the thread catches up with what happened meanwhile.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { acknowledgeSignal, incidentQuery, resolveSignal } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { openIncident } from '../helpers/incident';
import { startPagingDoubles, type PagingDoubles } from '../helpers/paging-doubles';
import { eventually, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let doubles: PagingDoubles;
const features = { slack: true, store: false, pagerduty: false, alertmanager: false };

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  doubles = await startPagingDoubles();
});

afterAll(async () => {
  await doubles?.close();
  await env?.teardown();
});

describe('Slack outage', () => {
  const taskQueue = uniqueTaskQueue('slack-outage');
  let worker: Awaited<ReturnType<typeof startTestWorker>>;

  beforeAll(async () => {
    worker = await startTestWorker(env, { taskQueue, env: doubles.workerEnv() });
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('keeps retrying through 30 minutes of 503s, notes the outage once and catches up in one message', async () => {
    const { slack } = doubles;
    slack.setOutage({ status: 503 });
    const { incidentId } = await openIncident({ address: env.address, taskQueue, settings: { features } });
    const handle = env.client.workflow.getHandle(incidentId);

    await env.sleep('12m');
    await handle.signal(acknowledgeSignal, { user: 'alice', name: 'Alice Kim', via: 'api' });
    await env.sleep('18m');

    const during = await handle.query(incidentQuery);
    expect(during.slack?.ts).toBeUndefined();
    const outageNotes = during.timeline.filter((e) => e.text.startsWith('Slack unavailable'));
    expect(outageNotes).toHaveLength(1);
    expect(during.timeline.some((e) => e.text.startsWith('Slack disabled'))).toBe(false);
    const failedPosts = slack.callsTo('chat.postMessage').filter((c) => c.status === 503);
    expect(failedPosts.length).toBeGreaterThan(1);
    // Capped backoff, not a hot loop: 30 minutes cost tens of attempts, not thousands.
    expect(failedPosts.length).toBeLessThan(200);
    expect(slack.calls.filter((c) => c.status === 200)).toHaveLength(0);

    slack.setOutage(undefined);
    // The next attempt is at most one backoff cap (5 minutes) away.
    await env.sleep('6m');
    const after = await eventually(
      async () => {
        const v = await handle.query(incidentQuery);
        return v.slack?.ts && v.timeline.some((e) => e.text.startsWith('Slack reachable again'))
          ? v
          : undefined;
      },
      60_000,
      'the message after the outage',
    );

    const channel = slack.channelId(after.slack!.channel);
    const roots = slack
      .messages(channel)
      .filter((m) => m.threadTs === undefined && JSON.stringify(m.blocks).includes(incidentId));
    expect(roots).toHaveLength(1);
    expect(roots[0]!.ts).toBe(after.slack!.ts);
    // Posted already showing the acknowledgement made during the outage.
    expect(JSON.stringify(roots[0]!.history[0]!.blocks)).toContain('acknowledged by Alice Kim');

    // The thread catches up: every line once, the acknowledgement among them.
    const thread = await eventually(
      () => {
        const lines = slack
          .messages(channel)
          .filter((m) => m.threadTs === after.slack!.ts)
          .map((m) => m.text ?? '')
          .join('\n');
        return Promise.resolve(lines.includes('Slack reachable again') ? lines : undefined);
      },
      60_000,
      'the thread to catch up',
    );
    expect(thread.match(/Acknowledged by Alice Kim/g)).toHaveLength(1);
    const final = await handle.query(incidentQuery);
    expect(final.timeline.filter((e) => e.text.startsWith('Slack unavailable'))).toHaveLength(1);
    expect(final.timeline.filter((e) => e.text.startsWith('Slack reachable again'))).toHaveLength(1);

    await handle.signal(resolveSignal, { user: 'alice', via: 'api' });
    await handle.result();
  });
});

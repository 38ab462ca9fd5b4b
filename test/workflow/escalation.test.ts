import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { resolveRole } from '../../src/domain/oncall';
import {
  acknowledgeSignal,
  commentSignal,
  incidentQuery,
  resolveSignal,
} from '../../src/workflows/definitions';
import type { IncidentView } from '../../src/domain/incident-view';
import type { SlackDouble } from '../doubles/slack-double';
import type { TwilioDouble } from '../doubles/twilio-double';
import { shippedConfig } from '../helpers/app';
import { openIncident } from '../helpers/incident';
import { startPagingDoubles, type PagingDoubles } from '../helpers/paging-doubles';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';
import { registerSearchAttributes } from '../helpers/time-skipping';

const MIN = 60_000;

let env: TestWorkflowEnvironment;
let doubles: PagingDoubles;
let slack: SlackDouble;
let twilio: TwilioDouble;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('esc');

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  doubles = await startPagingDoubles('twilio-secret');
  ({ slack, twilio } = doubles);
  worker = await startTestWorker(env, { taskQueue, env: doubles.workerEnv() });
});

afterAll(async () => {
  await worker?.stop();
  await doubles?.close();
  await env?.teardown();
});

beforeEach(() => {
  slack.reset();
  twilio.reset();
});

const features = { slack: true, store: false, pagerduty: false, alertmanager: false };

async function view(id: string): Promise<IncidentView> {
  return env.client.workflow.getHandle(id).query(incidentQuery);
}

/** Minutes after the incident opened at which each level was paged. */
function levelTimes(v: IncidentView): Record<string, number> {
  const opened = Date.parse(v.openedAt);
  return Object.fromEntries(
    Object.entries(v.escalation?.pagedAt ?? {}).map(([level, at]) => [
      `L${level}`,
      (Date.parse(at) - opened) / MIN,
    ]),
  );
}

/** Twilio traffic of one incident (its DAG id is unique and part of every page). */
function smsOf(dag: string) {
  return twilio.messages.filter((m) => m.body?.includes(dag) === true);
}
function callsOf(dag: string) {
  return twilio.calls.filter((c) => c.twiml?.includes(dag) === true);
}
function requestsOf(dag: string, resource: string) {
  return twilio.requests.filter((r) => r.resource === resource && JSON.stringify(r.form).includes(dag));
}

const opened: string[] = [];
afterEach(async () => {
  // Stop the test's incidents so their escalation does not page during the next test's time jumps.
  for (const id of opened.splice(0)) {
    await env.client.workflow
      .getHandle(id)
      .signal(resolveSignal, { user: 'test', note: 'test done' })
      .catch(() => undefined);
  }
});

async function open(severity?: 'P1' | 'P2') {
  const incident = await openIncident({
    address: env.address,
    taskQueue,
    settings: { features },
    ...(severity ? { severity } : {}),
  });
  opened.push(incident.incidentId);
  const v = await view(incident.incidentId);
  return { ...incident, dag: v.alerts[0]!.labels.dag_id! };
}

function phoneOf(person: string): string {
  return shippedConfig.oncall.people[person]!.phone!;
}

describe('escalation on durable timers (time-skipping server)', () => {
  it('follows the seed ladder when nobody acknowledges: L1 at once, L2 at 10m, L3 at 40m, L4 at 60m', async () => {
    const { incidentId, dag } = await open();
    await env.sleep('1m');
    expect(levelTimes(await view(incidentId))).toEqual({ L1: 0 });
    await env.sleep('9m');
    await env.sleep('1s');
    let v = await view(incidentId);
    expect(levelTimes(v)).toEqual({ L1: 0, L2: 10 });
    const primary = resolveRole(shippedConfig.oncall, 'primary', Date.parse(v.openedAt) + 10 * MIN);
    expect(smsOf(dag).map((m) => m.to)).toEqual(primary.map(phoneOf));

    await env.sleep('30m');
    v = await view(incidentId);
    expect(levelTimes(v)).toEqual({ L1: 0, L2: 10, L3: 40 });
    const secondary = resolveRole(shippedConfig.oncall, 'secondary', Date.parse(v.openedAt) + 40 * MIN);
    expect(callsOf(dag).map((c) => c.to)).toEqual(secondary.map(phoneOf));

    await env.sleep('20m');
    v = await view(incidentId);
    expect(levelTimes(v)).toEqual({ L1: 0, L2: 10, L3: 40, L4: 60 });
    expect(callsOf(dag).map((c) => c.to)).toContain(phoneOf('erin'));
    expect(v.escalation?.highestLevel).toBe(4);
    const described = await env.client.workflow.getHandle(incidentId).describe();
    expect(described.typedSearchAttributes.get(ALL_SEARCH_ATTRIBUTES[4])).toBe(4);
  });

  it('stops paging on acknowledgement during L2 and resumes only after 30 minutes without progress', async () => {
    const { incidentId, dag } = await open();
    await env.sleep('11m');
    const handle = env.client.workflow.getHandle(incidentId);
    await handle.signal(acknowledgeSignal, { user: 'alice', via: 'test' });
    await env.sleep('1s');
    const smsAfterAck = smsOf(dag).length;
    expect(smsAfterAck).toBeGreaterThan(0);
    await env.sleep('20m');
    await handle.signal(commentSignal, { user: 'alice', text: 'looking at the DB pool' });
    await env.sleep('29m');
    let v = await view(incidentId);
    expect(levelTimes(v)).toEqual({ L1: 0, L2: 10 });
    expect(smsOf(dag)).toHaveLength(smsAfterAck);
    expect(callsOf(dag)).toHaveLength(0);
    expect(v.acknowledgedBy).toBe('alice');
    await env.sleep('2m');
    v = await view(incidentId);
    // 30 minutes after the last progress (the comment at ~31m): L3 at ~61m, not at 40m.
    expect(levelTimes(v).L3).toBeGreaterThanOrEqual(61);
    expect(levelTimes(v).L3).toBeLessThan(61.1);
  });

  it('pages every level at once for a P1', async () => {
    const { incidentId } = await open('P1');
    await env.sleep('30s');
    const v = await view(incidentId);
    expect(levelTimes(v)).toEqual({ L1: 0, L2: 0, L3: 0, L4: 0 });
    expect(v.timeline.filter((e) => e.kind === 'escalated').map((e) => e.text)).toEqual([
      expect.stringContaining('L1 Slack alert (severity P1)'),
      expect.stringContaining('L2 primary on-call (severity P1)'),
      expect.stringContaining('L3 secondary on-call (severity P1)'),
      expect.stringContaining('L4 manager (severity P1)'),
    ]);
  });

  it('falls back to the next channel when Twilio refuses a number, with one attempt and a timeline entry', async () => {
    const { incidentId, dag } = await open();
    const v0 = await view(incidentId);
    const [primary] = resolveRole(shippedConfig.oncall, 'primary', Date.parse(v0.openedAt) + 10 * MIN);
    twilio.failNext('Messages', { status: 400, code: 21211 }, 5, { to: phoneOf(primary!) });
    await env.sleep('10m');
    await env.sleep('30s');
    const v = await view(incidentId);
    expect(requestsOf(dag, 'Messages')).toHaveLength(1);
    expect(v.timeline.some((e) => e.kind === 'page_failed' && e.text.includes('sms'))).toBe(true);
    expect(v.timeline.some((e) => e.text.startsWith('Falling back to phone'))).toBe(true);
    expect(callsOf(dag).map((c) => c.to)).toEqual([phoneOf(primary!)]);
  });

  it('sends one SMS when Twilio answers 429 and then 201', async () => {
    const { incidentId, dag } = await open();
    const v0 = await view(incidentId);
    const [primary] = resolveRole(shippedConfig.oncall, 'primary', Date.parse(v0.openedAt) + 10 * MIN);
    twilio.failNext('Messages', { status: 429, retryAfter: 1 }, 1, { to: phoneOf(primary!) });
    await env.sleep('10m');
    await env.sleep('1m');
    const v = await view(incidentId);
    expect(requestsOf(dag, 'Messages')).toHaveLength(2);
    expect(smsOf(dag)).toHaveLength(1);
    expect(v.escalation?.pages.find((p) => p.level === 2 && p.channel === 'sms')?.status).toBe('sent');
  });
});

/**
 * Faults while an escalation level pages, on the time-skipping server with the real activities and the
 * page log in a real PostgreSQL store (reached through a TCP proxy the test can cut): Twilio taking a
 * message but timing out, and the store away for a minute.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createStore, type Store } from '../../src/adapters/store';
import type { IncidentView } from '../../src/domain/incident-view';
import { resolveRole } from '../../src/domain/oncall';
import { incidentQuery, resolveSignal } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import type { SlackDouble } from '../doubles/slack-double';
import type { TwilioDouble } from '../doubles/twilio-double';
import { shippedConfig } from '../helpers/app';
import { openIncident } from '../helpers/incident';
import { startPagingDoubles, type PagingDoubles } from '../helpers/paging-doubles';
import { openTestStore, type TestStore } from '../helpers/store';
import { startTcpProxy, type TcpProxy, viaProxy } from '../helpers/tcp-proxy';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

const MIN = 60_000;

let env: TestWorkflowEnvironment;
let doubles: PagingDoubles;
let slack: SlackDouble;
let twilio: TwilioDouble;
let testStore: TestStore;
let proxy: TcpProxy;
let store: Store;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('pagefault');

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  doubles = await startPagingDoubles('twilio-secret');
  ({ slack, twilio } = doubles);
  testStore = await openTestStore('postgres');
  await testStore.store.migrate();
  const url = new URL(testStore.options.databaseUrl!);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  store = await createStore({
    ...testStore.options,
    databaseUrl: viaProxy(testStore.options.databaseUrl!, proxy),
    // The pool's idle connections die when the proxy is cut; the pool replaces them.
    onIdleError: () => undefined,
  });
  worker = await startTestWorker(env, { taskQueue, env: doubles.workerEnv(), store });
});

afterAll(async () => {
  await worker?.stop();
  await store?.close();
  await proxy?.close();
  await testStore?.cleanup();
  await doubles?.close();
  await env?.teardown();
});

beforeEach(() => {
  slack.reset();
  twilio.reset();
  proxy.restore();
});

const opened: string[] = [];
afterEach(async () => {
  proxy.restore();
  for (const id of opened.splice(0)) {
    await env.client.workflow
      .getHandle(id)
      .signal(resolveSignal, { user: 'test', note: 'test done' })
      .catch(() => undefined);
  }
});

const features = { slack: true, store: false, pagerduty: false, alertmanager: false };

async function open() {
  const incident = await openIncident({ address: env.address, taskQueue, settings: { features } });
  opened.push(incident.incidentId);
  const v = await view(incident.incidentId);
  return { ...incident, dag: v.alerts[0]!.labels.dag_id!, openedAt: Date.parse(v.openedAt) };
}

function view(id: string): Promise<IncidentView> {
  return env.client.workflow.getHandle(id).query(incidentQuery);
}

/** Polls the incident until `check` holds (real time; the server does not skip while we poll). */
async function until(id: string, check: (v: IncidentView) => boolean, what: string): Promise<IncidentView> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const v = await view(id);
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const pageOf = (v: IncidentView, level: number, channel: string) =>
  v.escalation?.pages.find((p) => p.level === level && p.channel === channel);
const smsPosts = (dag: string, level = 2) =>
  twilio.requests.filter(
    (r) =>
      r.method === 'POST' &&
      r.resource === 'Messages' &&
      r.form.Body?.includes(dag) === true &&
      r.form.Body.includes(` - L${level} `),
  );
/** SMS of one incident's level (the body names the incident's unique DAG and the level). */
const smsOf = (dag: string, level = 2) =>
  twilio.messages.filter((m) => m.body?.includes(dag) === true && m.body.includes(` - L${level} `));
const slackPagesOf = (dag: string, level: number) =>
  slack
    .callsTo('chat.postMessage')
    .filter((c) => String(c.body.text).startsWith(`Page L${level} `) && String(c.body.text).includes(dag));
const phoneOf = (person: string) => shippedConfig.oncall.people[person]!.phone!;

describe('paging faults (time-skipping server, page log in PostgreSQL)', () => {
  it('sends one SMS when Twilio took the first one but timed out, and the escalation goes on', async () => {
    const { incidentId, dag, openedAt } = await open();
    const primary = resolveRole(shippedConfig.oncall, 'primary', openedAt + 10 * MIN);
    expect(primary.length).toBeGreaterThan(0);
    // The first SMS to the primary is created at Twilio, but the answer never comes (the client gives up
    // after 10 s); the retry must find it instead of texting again.
    twilio.failNext('Messages', { timeout: 'never' }, 1, { to: phoneOf(primary[0]!) });

    await env.sleep('10m');
    const v = await until(incidentId, (x) => pageOf(x, 2, 'sms') !== undefined, 'the L2 SMS page');
    expect(pageOf(v, 2, 'sms')?.status).toBe('sent');
    expect(smsOf(dag).map((m) => m.to)).toEqual(primary.map(phoneOf));
    expect(smsPosts(dag)).toHaveLength(primary.length);
    // The timed-out request was never answered; the retry looked Twilio up instead of posting again.
    expect(smsPosts(dag).filter((r) => r.status === 0)).toHaveLength(1);
    expect(twilio.requests.some((r) => r.method === 'GET' && r.resource === 'Messages')).toBe(true);
    expect(v.timeline.filter((e) => e.kind === 'page_failed')).toEqual([]);

    // The ladder carries on: L3 calls the secondary at 40 minutes.
    await env.sleep('30m');
    const later = await until(incidentId, (x) => pageOf(x, 3, 'phone') !== undefined, 'the L3 call');
    expect((Date.parse(later.escalation!.pagedAt['3']!) - openedAt) / MIN).toBe(40);
    expect(pageOf(later, 3, 'phone')?.status).toBe('sent');
    expect(smsOf(dag, 2)).toHaveLength(primary.length);
  });

  it('pages once after PostgreSQL was away for a minute while the level paged: nothing lost, nothing twice', async () => {
    const { incidentId, dag, openedAt } = await open();
    await until(incidentId, (x) => pageOf(x, 1, 'slack')?.status === 'sent', 'the L1 Slack page');
    const primary = resolveRole(shippedConfig.oncall, 'primary', openedAt + 10 * MIN);

    proxy.cut();
    const refusedBefore = proxy.refused;
    await env.sleep('10m');
    // The level is due; its pages cannot be claimed while the store is away, so nothing goes out.
    await env.sleep('1m');
    expect(proxy.refused).toBeGreaterThan(refusedBefore);
    // The page activities kept retrying through the outage.
    const pending = (await env.client.workflow.getHandle(incidentId).describe()).raw.pendingActivities ?? [];
    expect(pending.filter((a) => a.activityType?.name === 'pageTarget').length).toBeGreaterThan(0);
    expect(Math.max(...pending.map((a) => a.attempt ?? 0))).toBeGreaterThanOrEqual(2);
    expect(smsOf(dag)).toHaveLength(0);
    expect(slackPagesOf(dag, 2)).toHaveLength(0);
    let v = await view(incidentId);
    expect(pageOf(v, 2, 'sms')).toBeUndefined();

    proxy.restore();
    // Let the retries' backoff pass on the server's clock.
    await env.sleep('2m');
    v = await until(
      incidentId,
      (x) => pageOf(x, 2, 'sms') !== undefined && pageOf(x, 2, 'slack') !== undefined,
      'the L2 pages',
    );
    expect(pageOf(v, 2, 'sms')?.status).toBe('sent');
    expect(pageOf(v, 2, 'slack')?.status).toBe('sent');
    expect(smsOf(dag).map((m) => m.to)).toEqual(primary.map(phoneOf));
    expect(smsPosts(dag)).toHaveLength(primary.length);
    expect(slackPagesOf(dag, 2)).toHaveLength(primary.length);
    expect(v.timeline.filter((e) => e.kind === 'page_failed')).toEqual([]);
    // Paged at its due time: the ladder keeps its schedule.
    expect((Date.parse(v.escalation!.pagedAt['2']!) - openedAt) / MIN).toBe(10);
  });
});

/**
 * Paging through the production composition root with the page log in a real PostgreSQL store, against
 * the Twilio double: what is sent when a page is retried, resumed after a crash, or repeated by a fresh
 * worker, and when the store goes away.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSqlPageLog } from '../../src/adapters/page-log-store';
import { createStore, type Store } from '../../src/adapters/store';
import { type PageLogEntry, pageLogKey } from '../../src/activities/page-log';
import { type PageRequest, smsRefMarker } from '../../src/activities/paging.activities';
import { buildActivities } from '../../src/composition';
import { loadEnv } from '../../src/config/env';
import { ErrorType } from '../../src/domain/errors';
import { startTwilioDouble, type TwilioDouble } from '../doubles/twilio-double';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { createSlackClient } from '../../src/adapters/slack';
import { shippedConfig } from '../helpers/app';
import { openTestStore, type TestStore } from '../helpers/store';
import { startTcpProxy, type TcpProxy, viaProxy } from '../helpers/tcp-proxy';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const FROM = '+15005550006';
const ALICE = '+821012345678';
const OPENED = '2026-12-05T08:00:00.000Z';

let twilio: TwilioDouble;
let t: TestStore;
let proxy: TcpProxy;
let proxied: Store;

beforeAll(async () => {
  twilio = await startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  t = await openTestStore('postgres');
  await t.store.migrate();
  proxy = await startTcpProxy(pgAddress(t.options.databaseUrl!));
  proxied = await createStore({ ...t.options, databaseUrl: viaProxy(t.options.databaseUrl!, proxy) });
});

afterAll(async () => {
  await proxied?.close();
  await proxy?.close();
  await t?.cleanup();
  await twilio?.close();
});

beforeEach(() => {
  twilio.reset();
  proxy.restore();
});

function pgAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}

/** A worker's activities as the composition root builds them: a fresh process, as far as state goes. */
function worker(store: Store = t.store) {
  return buildActivities({
    env: loadEnv({
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM_NUMBER: FROM,
      TWILIO_API_URL: twilio.url,
    }),
    config: () => shippedConfig,
    store,
    lookupEnv: () => undefined,
  });
}

let seq = 0;
/** A page to Alice by SMS (or phone) in its own incident. */
function page(channel: 'sms' | 'phone' = 'sms'): PageRequest {
  seq += 1;
  const incidentId = `incident:paging-idem:${Date.now()}-${seq}`;
  return {
    pageKey: `${incidentId}/${OPENED}/L2.0/person:alice/${channel}`,
    incidentId,
    level: 2,
    levelName: 'primary',
    target: { person: 'alice' },
    channel,
    atMs: Date.parse(OPENED),
    severity: 'P2',
    title: 'DAG etl failed',
    service: 'etl',
    links: {},
  };
}

const posts = () => twilio.requests.filter((r) => r.method === 'POST');
const gets = () => twilio.requests.filter((r) => r.method === 'GET');

/** Runs `fn` as attempt `attempt` of one activity execution. */
function asAttempt<R>(execution: string, attempt: number, fn: () => Promise<R>): Promise<R> {
  const env = new MockActivityEnvironment({
    attempt,
    activityId: '7',
    workflowExecution: { workflowId: execution, runId: 'run-1' },
  });
  return env.run(fn);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected an ApplicationFailure');
}

/** The claim a worker left behind when it crashed between claiming and completing. */
async function crashedClaim(req: PageRequest, execution: string, recipient = `${req.channel}:alice`) {
  const log = createSqlPageLog<PageLogEntry>(t.store.sqlClient());
  const holder = { execution: `${execution}/run-1/7`, attempt: 1 };
  for (const key of [pageLogKey(req), pageLogKey(req, recipient)]) {
    expect((await log.claim(key, holder, 120_000)).state).toBe('owned');
  }
}

describe('paging with the page log in PostgreSQL', () => {
  it('sends nothing for a completed page, also from a freshly started worker', async () => {
    const req = page();
    const first = await worker().pageTarget(req);
    expect(first.status).toBe('sent');
    expect(twilio.messages).toHaveLength(1);

    // A new worker process: new activities, new in-memory state, the same store.
    const again = await worker().pageTarget(req);
    expect(again).toEqual(first);
    expect(twilio.requests).toHaveLength(1);
  });

  it('records what Twilio already has when a crashed attempt sent it, and sends nothing', async () => {
    const req = page();
    await crashedClaim(req, 'wf-crash-sent');
    const sent = twilio.seedMessage({
      to: ALICE,
      from: FROM,
      body: `earlier body ${smsRefMarker(req.pageKey, 'sms:alice')}`,
    });

    const result = await asAttempt('wf-crash-sent', 2, () => worker().pageTarget(req));
    expect(result).toMatchObject({ status: 'sent', providerIds: [sent.sid] });
    expect(posts()).toHaveLength(0);
    expect(gets()).toHaveLength(1);

    // Recorded: nobody asks Twilio again.
    expect(await worker().pageTarget(req)).toEqual(result);
    expect(twilio.requests).toHaveLength(1);
  });

  it('sends once when a crashed attempt claimed the page but Twilio has nothing', async () => {
    const req = page();
    await crashedClaim(req, 'wf-crash-unsent');
    // Another page's SMS to the same person does not count.
    twilio.seedMessage({ to: ALICE, from: FROM, body: `other ${smsRefMarker('another/page', 'sms:alice')}` });

    const result = await asAttempt('wf-crash-unsent', 2, () => worker().pageTarget(req));
    expect(result.status).toBe('sent');
    expect(posts()).toHaveLength(1);
    expect(
      twilio.messages.filter((m) => m.body?.includes(smsRefMarker(req.pageKey, 'sms:alice'))),
    ).toHaveLength(1);
    await worker().pageTarget(req);
    expect(posts()).toHaveLength(1);
  });

  it('does not call twice when a crashed attempt already placed the call', async () => {
    const req = page('phone');
    await crashedClaim(req, 'wf-crash-call');
    const call = await fetch(`${twilio.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: ALICE, From: FROM, Twiml: '<Response/>' }).toString(),
    });
    const { sid } = (await call.json()) as { sid: string };

    const result = await asAttempt('wf-crash-call', 2, () => worker().pageTarget(req));
    expect(result).toMatchObject({ status: 'sent', providerIds: [sid] });
    expect(twilio.calls).toHaveLength(1);
  });

  it('keeps another live execution from sending a page that is being sent', async () => {
    const req = page();
    await crashedClaim(req, 'wf-live');
    const failure = await failureOf(asAttempt('wf-other', 1, () => worker().pageTarget(req)));
    expect(failure.type).toBe(ErrorType.Unavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeGreaterThan(0);
    expect(twilio.requests).toHaveLength(0);
  });

  it('sends once when the store is unreachable at first: nothing goes out until the page can be claimed', async () => {
    const req = page();
    proxy.cut();
    const down = await failureOf(worker(proxied).pageTarget(req));
    expect(down.type).toBe(ErrorType.Unavailable);
    expect(down.nonRetryable).toBe(false);
    expect(down.message).toContain('page log claim failed');
    expect(twilio.requests).toHaveLength(0);

    proxy.restore();
    const result = await worker(proxied).pageTarget(req);
    expect(result.status).toBe('sent');
    expect(twilio.messages).toHaveLength(1);
  });

  it('does not send again when the store went away between the send and its record', async () => {
    const req = page();
    // Twilio answers late; the store is cut while the message exists but before the answer arrives.
    twilio.failNext('Messages', { timeout: 'delay', answerAfterMs: 500 });
    const acts = worker(proxied);
    const first = asAttempt('wf-store-gap', 1, () => acts.pageTarget(req));
    await waitFor(() => twilio.messages.length === 1, 'the message to be created');
    proxy.cut();
    const lost = await failureOf(first);
    expect(lost.type).toBe(ErrorType.Unavailable);
    expect(lost.message).toContain('page log complete failed');

    proxy.restore();
    const retried = await asAttempt('wf-store-gap', 2, () => worker(proxied).pageTarget(req));
    expect(retried).toMatchObject({ status: 'sent', providerIds: [twilio.messages[0]!.sid] });
    expect(twilio.messages).toHaveLength(1);
    expect(posts()).toHaveLength(1);
  });
});

/** Polls `check` every 20 ms until it holds, failing after `timeoutMs`. */
async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Slack pages with the page log in PostgreSQL', () => {
  const SLACK_TOKEN = 'xoxb-page-log';
  let slack: SlackDouble;
  beforeAll(async () => {
    slack = await startSlackDouble({ token: SLACK_TOKEN });
  });
  afterAll(() => slack.close());
  beforeEach(() => slack.reset());

  const slackWorker = () =>
    buildActivities({
      env: loadEnv({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.apiUrl }),
      config: () => shippedConfig,
      store: t.store,
      lookupEnv: () => undefined,
    });

  /** A Slack page to Alice (a direct message), in its own incident. */
  function slackPage(): PageRequest {
    const req = page();
    return { ...req, channel: 'slack', pageKey: req.pageKey.replace(/\/sms$/, '/slack') };
  }
  const recipient = 'slack:@U01ALICE';

  it('does not send the DM again when a crashed attempt already posted it', async () => {
    const req = slackPage();
    await crashedClaim(req, 'wf-slack-sent', recipient);
    // What the crashed attempt did before dying: the DM, with its key as message metadata.
    await createSlackClient({ token: SLACK_TOKEN, slackApiUrl: slack.apiUrl }).dm({
      user: 'U01ALICE',
      text: 'earlier page',
      idempotencyKey: `${req.pageKey}#${recipient}`,
    });

    const result = await asAttempt('wf-slack-sent', 2, () => slackWorker().pageTarget(req));
    expect(result.status).toBe('sent');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('conversations.history')).toHaveLength(1);
  });

  it('sends the DM once when a crashed attempt claimed it but Slack has nothing', async () => {
    const req = slackPage();
    await crashedClaim(req, 'wf-slack-unsent', recipient);

    const result = await asAttempt('wf-slack-unsent', 2, () => slackWorker().pageTarget(req));
    expect(result.status).toBe('sent');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')[0]!.body.metadata).toEqual({
      event_type: 'incidentflow_post',
      event_payload: { key: `${req.pageKey}#${recipient}` },
    });
    await slackWorker().pageTarget(req);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});

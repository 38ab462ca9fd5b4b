import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createPagerDutyClient } from '../../../src/adapters/pagerduty';
import { createSlackClient } from '../../../src/adapters/slack';
import { createTwilioClient } from '../../../src/adapters/twilio';
import { signWebhookBody } from '../../../src/adapters/webhook';
import type { Clock } from '../../../src/activities/clock';
import { createMemoryPageLog, type PageLog } from '../../../src/activities/page-log';
import {
  createPagingActivities,
  type PageRequest,
  type PagingDeps,
  type ResolvedPerson,
  smsRefMarker,
  type TargetResolver,
} from '../../../src/activities/paging.activities';
import { ErrorType } from '../../../src/domain/errors';
import { type PagerDutyDouble, startPagerDutyDouble } from '../../doubles/pagerduty-double';
import { type SlackDouble, startSlackDouble } from '../../doubles/slack-double';
import { startTwilioDouble, type TwilioDouble } from '../../doubles/twilio-double';
import { startWebhookDouble, type WebhookDouble } from '../../doubles/webhook-double';

const SLACK_TOKEN = 'xoxb-paging-test-token';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const WEBHOOK_SECRET = 'whsec-paging';
const FROM = '+15005550006';
const HANDOVER = Date.UTC(2024, 4, 1, 9, 0, 0);

const alice: ResolvedPerson = {
  id: 'alice',
  name: 'Alice Kim',
  slackUserId: 'U0ALICE',
  phone: '+821012345678',
};
const bob: ResolvedPerson = { id: 'bob', name: 'Bob Lee', slackUserId: 'U0BOB', phone: '+14155550100' };
const carol: ResolvedPerson = { id: 'carol', name: 'Carol Park' };
const people: Record<string, ResolvedPerson> = { alice, bob, carol };

let slack: SlackDouble;
let twilio: TwilioDouble;
let pd: PagerDutyDouble;
let hook: WebhookDouble;
beforeAll(async () => {
  [slack, twilio, pd, hook] = await Promise.all([
    startSlackDouble({ token: SLACK_TOKEN, channels: { '#data-incidents': 'C0INCIDENTS' } }),
    startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }),
    startPagerDutyDouble({ routingKeys: [ROUTING_KEY] }),
    startWebhookDouble({ secret: WEBHOOK_SECRET }),
  ]);
});
afterAll(() => Promise.all([slack.close(), twilio.close(), pd.close(), hook.close()]));

let resolverCalls: Array<{ target: unknown; atMs: number }>;
let pageLog: PageLog;
beforeEach(() => {
  slack.reset();
  twilio.reset();
  pd.reset();
  hook.reset();
  resolverCalls = [];
  pageLog = createMemoryPageLog();
});

/** A stand-in for the on-call module: the `primary` schedule hands over from Alice to Bob at HANDOVER. */
const resolver: TargetResolver = (target, atMs) => {
  resolverCalls.push({ target, atMs });
  if ('person' in target) {
    const person = people[target.person];
    if (!person) throw new Error(`unknown person "${target.person}"`);
    return { people: [person] };
  }
  if ('schedule' in target) return { people: atMs < HANDOVER ? [alice] : [bob] };
  if ('role' in target) return { people: target.role === 'everyone' ? [alice, bob, carol] : [] };
  if ('slack_channel' in target) return { people: [], slackChannel: target.slack_channel };
  return { people: [], webhook: target.webhook };
};

const clock: Clock = { now: () => HANDOVER + 60_000, sleep: () => Promise.resolve() };

function activities(overrides: Partial<PagingDeps> = {}) {
  return createPagingActivities({
    oncall: () => resolver,
    slack: createSlackClient({ token: SLACK_TOKEN, slackApiUrl: slack.apiUrl }),
    twilio: createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: FROM,
      baseUrl: twilio.url,
    }),
    pagerduty: createPagerDutyClient({ routingKey: ROUTING_KEY, eventsUrl: pd.eventsUrl }),
    webhooks: { ops: { url: `${hook.url}/hooks/ops`, secret: WEBHOOK_SECRET } },
    pageLog,
    clock,
    ...overrides,
  });
}

function request(overrides: Partial<PageRequest> = {}): PageRequest {
  const channel = overrides.channel ?? 'sms';
  const target = overrides.target ?? { schedule: 'primary' };
  return {
    pageKey: `incident:etl:abc/L2/${Object.entries(target)[0]!.join(':')}/${channel}`,
    incidentId: 'incident:etl:abc',
    incidentNumber: 'INC-20261125-042',
    level: 2,
    levelName: 'primary',
    target,
    channel,
    atMs: HANDOVER - 60_000,
    severity: 'P2',
    title: 'DAG etl failed',
    service: 'etl',
    links: { incident: 'http://incidentflow.local/incidents/42', temporalUi: 'http://localhost:8233/wf' },
    ...overrides,
  };
}

/** Runs an activity in a mock activity context, collecting heartbeats. */
async function inActivity<R>(fn: () => Promise<R>): Promise<{ result: R; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const result = await env.run<[], R, () => Promise<R>>(fn);
  return { result, heartbeats };
}

async function thrown(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected an ApplicationFailure');
}

describe('pageTarget on sms and phone', () => {
  it('texts whoever the schedule has on call at the workflow time, not now', async () => {
    const { result } = await inActivity(() => activities().pageTarget(request()));

    expect(resolverCalls).toEqual([{ target: { schedule: 'primary' }, atMs: HANDOVER - 60_000 }]);
    expect(twilio.messages.map((m) => m.to)).toEqual(['+821012345678']);
    expect(result).toEqual({
      pageKey: 'incident:etl:abc/L2/schedule:primary/sms',
      status: 'sent',
      channel: 'sms',
      recipients: [
        { personId: 'alice', address: '+82******5678', status: 'sent', providerId: twilio.messages[0]!.sid },
      ],
      providerIds: [twilio.messages[0]!.sid],
    });
  });

  it('sends the incident headline and link in the SMS body, with the page reference at its end', async () => {
    await activities().pageTarget(request());
    const marker = smsRefMarker(request().pageKey, 'sms:alice');
    expect(marker).toMatch(/^\[ref [0-9a-f]{10}\]$/);
    expect(twilio.messages[0]!.body).toBe(
      `incidentflow [P2] INC-20261125-042 DAG etl failed (etl) - L2 primary. http://incidentflow.local/incidents/42 ${marker}`,
    );
  });

  it('shortens a long SMS body so the page reference survives Twilio’s 1600-character limit', async () => {
    await activities({ render: { sms: () => 'x'.repeat(2000) } }).pageTarget(request());
    const body = twilio.messages[0]!.body!;
    expect(body).toHaveLength(1600);
    expect(body.endsWith(` ${smsRefMarker(request().pageKey, 'sms:alice')}`)).toBe(true);
  });

  it('calls with inline TwiML that says the incident', async () => {
    await activities().pageTarget(request({ channel: 'phone', atMs: HANDOVER }));
    expect(twilio.calls).toHaveLength(1);
    expect(twilio.calls[0]!.to).toBe('+14155550100');
    expect(twilio.calls[0]!.twiml).toBe(
      '<Response><Say>Incident flow page. Severity P 2. Incident 42. DAG etl failed. Service etl. Escalation level 2.</Say>' +
        '<Pause length="1"/><Say>Incident flow page. Severity P 2. Incident 42. DAG etl failed. Service etl. Escalation level 2.</Say></Response>',
    );
  });

  it('skips a person without a phone number and says why', async () => {
    const result = await activities().pageTarget(request({ target: { person: 'carol' } }));
    expect(result.status).toBe('skipped');
    expect(result.reason).toBe('no phone number');
    expect(result.recipients).toEqual([
      { personId: 'carol', address: 'person:carol', status: 'skipped', reason: 'no phone number' },
    ]);
    expect(twilio.requests).toHaveLength(0);
  });

  it('returns failed for a number Twilio rejects (21211) without retrying', async () => {
    twilio.failNext('Messages', { status: 400, code: 21211 });
    const result = await activities().pageTarget(request());

    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      type: ErrorType.Rejected,
      provider: 'twilio',
      code: '21211',
      message:
        "twilio Messages.create: HTTP 400: Twilio error 21211: The 'To' number +82******5678 is not a valid phone number.",
    });
    expect(twilio.requests).toHaveLength(1);
  });

  it('throws RateLimited with the Retry-After delay on 429 and sends exactly one SMS on the retry', async () => {
    twilio.failNext('Messages', { status: 429, retryAfter: 1 });
    const acts = activities();

    const failure = await thrown(inActivity(() => acts.pageTarget(request())));
    expect(failure.type).toBe(ErrorType.RateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(1000);
    expect(twilio.messages).toHaveLength(0);

    const { result } = await inActivity(() => acts.pageTarget(request()));
    expect(result.status).toBe('sent');
    expect(twilio.messages).toHaveLength(1);
  });

  it('throws retryable Unavailable on a Twilio 5xx', async () => {
    twilio.failNext('Messages', { status: 503 });
    const failure = await thrown(activities().pageTarget(request()));
    expect(failure.type).toBe(ErrorType.Unavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  it('does not text a recipient again when a retry follows a failure of the next recipient', async () => {
    twilio.failNext('Messages', { status: 503 }, 1, { to: '+14155550100' });
    const acts = activities();
    const req = request({ target: { role: 'everyone' } });

    await thrown(acts.pageTarget(req));
    expect(twilio.messages.map((m) => m.to)).toEqual(['+821012345678']);

    const result = await acts.pageTarget(req);
    expect(twilio.messages.map((m) => m.to)).toEqual(['+821012345678', '+14155550100']);
    expect(result.recipients.map((r) => [r.personId, r.address, r.status])).toEqual([
      ['alice', '+82******5678', 'sent'],
      ['bob', '+14*****0100', 'sent'],
      ['carol', 'person:carol', 'skipped'],
    ]);
  });

  it('returns the recorded result and sends nothing for a page key already sent', async () => {
    const acts = activities();
    const first = await acts.pageTarget(request());
    const second = await acts.pageTarget(request());

    expect(second).toEqual(first);
    expect(twilio.requests).toHaveLength(1);
    expect(resolverCalls).toHaveLength(1);
  });

  it('heartbeats once per recipient it sends to', async () => {
    const { heartbeats } = await inActivity(() =>
      activities().pageTarget(request({ target: { role: 'everyone' } })),
    );
    expect(heartbeats).toEqual([
      { pageKey: 'incident:etl:abc/L2/role:everyone/sms', recipient: 'sms:alice' },
      { pageKey: 'incident:etl:abc/L2/role:everyone/sms', recipient: 'sms:bob' },
    ]);
  });

  it('sends nothing once the activity is cancelled', async () => {
    const env = new MockActivityEnvironment();
    env.cancel();
    const acts = activities();
    await expect(env.run(() => acts.pageTarget(request()))).rejects.toBeInstanceOf(CancelledFailure);
    expect(twilio.requests).toHaveLength(0);
  });

  it('returns failed NotConfigured when Twilio is not configured', async () => {
    const result = await activities({ twilio: undefined }).pageTarget(request());
    expect(result).toMatchObject({
      status: 'failed',
      error: { type: ErrorType.NotConfigured, provider: 'twilio' },
    });
  });

  it('keeps the auth token and account sid out of every failure', async () => {
    const wrongToken = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: 'bad0bad0bad0bad0bad0bad0bad0bad0',
      from: FROM,
      baseUrl: twilio.url,
    });
    const auth = await activities({ twilio: wrongToken }).pageTarget(request({ pageKey: 'k1' }));
    expect(auth.error).toMatchObject({ type: ErrorType.AuthFailed, code: '20003' });

    twilio.failNext('Messages', { status: 429, retryAfter: 2 });
    const limited = await thrown(activities().pageTarget(request({ pageKey: 'k2' })));
    twilio.failNext('Messages', { status: 500 });
    const down = await thrown(activities().pageTarget(request({ pageKey: 'k3' })));
    twilio.failNext('Messages', { status: 400, code: 21211 });
    const rejected = await activities().pageTarget(request({ pageKey: 'k4' }));

    const seen = JSON.stringify([
      auth,
      rejected,
      limited.message,
      limited.details,
      down.message,
      down.details,
    ]);
    expect(seen).not.toContain(AUTH_TOKEN);
    expect(seen).not.toContain('bad0bad0bad0bad0bad0bad0bad0bad0');
    expect(seen).not.toContain(ACCOUNT_SID);
    expect(seen).not.toContain('+821012345678');
  });
});

describe('pageTarget on slack', () => {
  it('direct-messages each person with a Slack user id', async () => {
    const { result } = await inActivity(() =>
      activities().pageTarget(request({ channel: 'slack', target: { role: 'everyone' } })),
    );

    const dm = slack.dmChannelId('U0ALICE');
    expect(slack.callsTo('conversations.open').map((c) => c.body.users)).toEqual(['U0ALICE', 'U0BOB']);
    expect(result.status).toBe('sent');
    expect(result.recipients.map((r) => [r.address, r.status])).toEqual([
      ['@U0ALICE', 'sent'],
      ['@U0BOB', 'sent'],
      ['person:carol', 'skipped'],
    ]);
    expect(result.providerIds[0]).toBe(`${dm}/${slack.latest(dm)!.ts}`);
    expect(slack.latest(dm)!.text).toBe('Page L2 (primary): [P2] INC-20261125-042 DAG etl failed (etl)');
    expect(slack.latest(dm)!.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: ':rotating_light: *[P2] INC-20261125-042 DAG etl failed (etl)*\nYou are paged: escalation L2 (primary).',
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: '<http://incidentflow.local/incidents/42|Incident> · <http://localhost:8233/wf|Temporal UI>',
          },
        ],
      },
    ]);
  });

  it('posts to the channel of a slack_channel target', async () => {
    const result = await activities().pageTarget(
      request({ channel: 'slack', target: { slack_channel: '#data-incidents' } }),
    );
    expect(result.recipients).toEqual([
      {
        address: '#data-incidents',
        status: 'sent',
        providerId: `C0INCIDENTS/${slack.latest('C0INCIDENTS')!.ts}`,
      },
    ]);
    expect(slack.callsTo('conversations.open')).toHaveLength(0);
  });

  it('falls back to the incident channel when nobody is reachable on Slack', async () => {
    const result = await activities().pageTarget(
      request({ channel: 'slack', target: { person: 'carol' }, slackChannel: '#data-incidents' }),
    );
    expect(result.status).toBe('sent');
    expect(result.recipients.map((r) => r.address)).toEqual(['person:carol', '#data-incidents']);
    expect(slack.messages('#data-incidents')).toHaveLength(1);
  });

  it('throws RateLimited with nextRetryDelay from Retry-After on a Slack 429', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const failure = await thrown(
      activities().pageTarget(request({ channel: 'slack', target: { slack_channel: '#data-incidents' } })),
    );
    expect(failure.type).toBe(ErrorType.RateLimited);
    expect(failure.nextRetryDelay).toBe(1000);
  });

  it('returns failed with the Slack error for channel_not_found', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    const result = await activities().pageTarget(
      request({ channel: 'slack', target: { slack_channel: '#gone' } }),
    );
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      type: ErrorType.NotFound,
      provider: 'slack',
      code: 'channel_not_found',
      message: 'slack chat.postMessage: channel_not_found',
    });
  });
});

describe('pageTarget on pagerduty', () => {
  it('sends one trigger event keyed by the incident id', async () => {
    const result = await activities().pageTarget(
      request({ channel: 'pagerduty', severity: 'P1', target: { role: 'everyone' } }),
    );

    expect(pd.events).toHaveLength(1);
    expect(pd.events[0]).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'incident:etl:abc',
      payload: {
        summary: '[P1] INC-20261125-042 DAG etl failed (etl)',
        source: 'etl',
        severity: 'critical',
        timestamp: new Date(HANDOVER - 60_000).toISOString(),
        component: 'etl',
        class: 'incident',
        custom_details: {
          incidentId: 'incident:etl:abc',
          incidentNumber: 'INC-20261125-042',
          escalationLevel: 2,
          levelName: 'primary',
          oncall: ['Alice Kim', 'Bob Lee', 'Carol Park'],
        },
      },
      client_url: 'http://incidentflow.local/incidents/42',
      links: [
        { href: 'http://incidentflow.local/incidents/42', text: 'Incident' },
        { href: 'http://localhost:8233/wf', text: 'Temporal UI' },
      ],
    });
    expect(result).toMatchObject({ status: 'sent', providerIds: ['incident:etl:abc'] });
  });

  it('keeps the dedup key stable across levels so PagerDuty holds one alert', async () => {
    const acts = activities();
    await acts.pageTarget(request({ channel: 'pagerduty', level: 2 }));
    await acts.pageTarget(
      request({ channel: 'pagerduty', level: 3, pageKey: 'incident:etl:abc/L3/x/pagerduty' }),
    );

    expect(pd.alerts).toHaveLength(1);
    expect(pd.alert('incident:etl:abc')!.triggers).toBe(2);
  });

  it('acknowledges and resolves the incident alert', async () => {
    const acts = activities();
    await acts.pageTarget(request({ channel: 'pagerduty' }));

    expect(await acts.pagerDutyAcknowledge('incident:etl:abc')).toEqual({
      status: 'sent',
      dedupKey: 'incident:etl:abc',
    });
    expect(pd.alert('incident:etl:abc')!.status).toBe('acknowledged');
    await acts.pagerDutyResolve('incident:etl:abc');
    expect(pd.alert('incident:etl:abc')!.status).toBe('resolved');
  });

  it('skips acknowledge when PagerDuty is not configured', async () => {
    expect(await activities({ pagerduty: undefined }).pagerDutyAcknowledge('incident:etl:abc')).toEqual({
      status: 'skipped',
      reason: 'PagerDuty is not configured',
    });
  });

  it('throws RateLimited when PagerDuty throttles a resolve', async () => {
    pd.failNext({ status: 429, retryAfter: 5 });
    const failure = await thrown(activities().pagerDutyResolve('incident:etl:abc'));
    expect(failure.type).toBe(ErrorType.RateLimited);
    expect(failure.nextRetryDelay).toBe(5000);
  });
});

describe('pageTarget on webhook', () => {
  it('posts a signed page with the page key as Idempotency-Key', async () => {
    const req = request({ channel: 'webhook', target: { webhook: 'ops' } });
    const result = await activities().pageTarget(req);

    const received = hook.requests[0]!;
    expect(received.idempotencyKey).toBe(req.pageKey);
    expect(received.signature).toBe(signWebhookBody(WEBHOOK_SECRET, received.rawBody));
    expect(received.timestamp).toBe(String(Math.floor(clock.now() / 1000)));
    expect(received.json).toEqual({
      event: 'incident.page',
      pageKey: req.pageKey,
      incidentId: 'incident:etl:abc',
      incidentNumber: 'INC-20261125-042',
      level: 2,
      levelName: 'primary',
      severity: 'P2',
      title: 'DAG etl failed',
      service: 'etl',
      target: { webhook: 'ops' },
      oncall: [],
      links: req.links,
      at: new Date(req.atMs).toISOString(),
    });
    expect(result).toMatchObject({
      status: 'sent',
      recipients: [{ address: 'webhook:ops', status: 'sent' }],
    });
  });

  it('returns failed NotConfigured for a webhook name that is not configured', async () => {
    const result = await activities().pageTarget(
      request({ channel: 'webhook', target: { webhook: 'nope' } }),
    );
    expect(result.error).toEqual({
      type: ErrorType.NotConfigured,
      provider: 'webhook',
      message: 'webhook "nope" is not configured',
    });
    expect(hook.requests).toHaveLength(0);
  });
});

describe('pageTarget with a bad target', () => {
  it('returns failed NotFound when the resolver does not know the target', async () => {
    const result = await activities().pageTarget(request({ target: { person: 'mallory' } }));
    expect(result).toEqual({
      pageKey: 'incident:etl:abc/L2/person:mallory/sms',
      status: 'failed',
      channel: 'sms',
      recipients: [],
      providerIds: [],
      error: { type: ErrorType.NotFound, provider: 'oncall', message: 'unknown person "mallory"' },
    });
  });

  it('returns skipped when the target resolves to nobody', async () => {
    const result = await activities().pageTarget(request({ target: { role: 'nobody' } }));
    expect(result).toMatchObject({ status: 'skipped', reason: 'target resolved to nobody', recipients: [] });
  });
});

describe('notifySlack and updateSlackMessage', () => {
  it('posts to a channel and returns its channel id and ts', async () => {
    const ref = await activities().notifySlack({ channel: '#data-incidents', text: 'Incident #42 opened' });
    expect(ref).toEqual({ channel: 'C0INCIDENTS', ts: slack.latest('#data-incidents')!.ts });
  });

  it('posts into a thread', async () => {
    const acts = activities();
    const parent = await acts.notifySlack({ channel: '#data-incidents', text: 'parent' });
    await acts.notifySlack({ channel: '#data-incidents', text: 'note', threadTs: parent.ts });
    expect(slack.latest('#data-incidents')).toMatchObject({ text: 'note', threadTs: parent.ts });
  });

  it('edits the message in place', async () => {
    const acts = activities();
    const ref = await acts.notifySlack({ channel: '#data-incidents', text: 'v1' });
    await acts.updateSlackMessage({ ...ref, text: 'v2', blocks: [{ type: 'divider' }] });
    expect(slack.message(ref.channel, ref.ts)).toMatchObject({ text: 'v2', blocks: [{ type: 'divider' }] });
  });

  it.each([
    ['channel_not_found', ErrorType.NotFound],
    ['invalid_auth', ErrorType.AuthFailed],
    ['is_archived', ErrorType.Rejected],
  ])('throws non-retryable on %s with the Slack error in details', async (error, type) => {
    slack.failNext('chat.postMessage', { error });
    const failure = await thrown(activities().notifySlack({ channel: '#data-incidents', text: 'x' }));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ slackError: error }]);
  });

  it('throws retryable RateLimited on a 429 from chat.update', async () => {
    slack.failNext('chat.update', { status: 429, retryAfter: 2 });
    const failure = await thrown(
      activities().updateSlackMessage({ channel: 'C0INCIDENTS', ts: '1.000100', text: 'x' }),
    );
    expect(failure.type).toBe(ErrorType.RateLimited);
    expect(failure.nextRetryDelay).toBe(2000);
    expect(failure.nonRetryable).toBe(false);
  });

  it('throws NotConfigured without a Slack client', async () => {
    const failure = await thrown(activities({ slack: undefined }).notifySlack({ channel: '#x', text: 'x' }));
    expect(failure.type).toBe(ErrorType.NotConfigured);
    expect(failure.nonRetryable).toBe(true);
  });

  it('keeps the bot token out of failure messages', async () => {
    const wrong = createSlackClient({ token: 'xoxb-not-the-right-one', slackApiUrl: slack.apiUrl });
    const failure = await thrown(activities({ slack: wrong }).notifySlack({ channel: '#x', text: 'x' }));
    expect(failure.type).toBe(ErrorType.AuthFailed);
    expect(JSON.stringify([failure.message, failure.details])).not.toContain('xoxb-');
  });
});

describe('pageTarget to the incident channel', () => {
  it('posts a `$incident` Slack target to the channel the request names', async () => {
    const result = await activities().pageTarget(
      request({ channel: 'slack', target: { slack_channel: '$incident' }, slackChannel: '#data-incidents' }),
    );
    expect(result.status).toBe('sent');
    expect(slack.callsTo('chat.postMessage').map((c) => c.body.channel)).toEqual(['#data-incidents']);
  });
});

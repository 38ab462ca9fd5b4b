import { createHash, randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PagerDutyClient, PagerDutySeverity } from '../adapters/pagerduty';
import type { SlackBlock, SlackClient, SlackMessageRef } from '../adapters/slack';
import { TWILIO_MAX_SMS_BODY, type TwilioClient } from '../adapters/twilio';
import { createWebhookSender, type WebhookSender } from '../adapters/webhook';
import { type HttpFailure, isHttpFailure } from '../adapters/http-client';
import { INCIDENT_CHANNEL } from '../domain/escalation-target';
import { ErrorType } from '../domain/errors';
import { maskPhone } from '../domain/masking';
import type { Severity } from '../domain/severity';
import type { Clock } from './clock';
import { type PageLog, type PageLogEntry, type PageLogHolder, type PageLogKey, pageLogKey } from './page-log';
import { postOnce, type SlackNotice } from './slack-post';
import { currentActivityRuntime } from './activity-runtime';

/** Who a policy level pages. Exactly one key. */
export type PageTarget =
  | { person: string }
  | { role: string }
  | { schedule: string }
  | { slack_channel: string }
  | { webhook: string };

export type PageChannel = 'slack' | 'sms' | 'phone' | 'pagerduty' | 'webhook';

export interface ResolvedPerson {
  id: string;
  name: string;
  slackUserId?: string;
  /** E.164. */
  phone?: string;
  email?: string;
}

/** A target resolved against the on-call config at one instant. */
export interface ResolvedRecipients {
  people: ResolvedPerson[];
  slackChannel?: string;
  /** Name of a configured webhook. */
  webhook?: string;
}

/**
 * Resolves a target at `atMs` (workflow time), e.g. `(t, at) => resolveTarget(oncallConfig, t, at)`.
 * Throws when the target names something the config does not have.
 */
export type TargetResolver = (target: PageTarget, atMs: number) => ResolvedRecipients;

/** One escalation page: one target on one channel. */
export interface PageRequest {
  /** `${incidentId}/L${level}/${targetKey}/${channel}`: the idempotency key of this page. */
  pageKey: string;
  incidentId: string;
  incidentNumber?: string;
  level: number;
  levelName: string;
  target: PageTarget;
  channel: PageChannel;
  /** Workflow time: schedules are resolved at this instant, never at `Date.now()`. */
  atMs: number;
  severity: Severity;
  title: string;
  service: string;
  links: { incident?: string; temporalUi?: string };
  /** The incident's Slack channel: used for Slack pages when the target resolves to nobody reachable. */
  slackChannel?: string;
}

export interface PageError {
  type: ErrorType;
  message: string;
  provider: string;
  code?: string;
}

export interface PageRecipient {
  personId?: string;
  /** Masked phone (`+82******5678`), `@U123` (Slack user), `#C123` (channel), `webhook:<name>`, `pagerduty`. */
  address: string;
  status: 'sent' | 'failed' | 'skipped';
  /** Provider id of what was sent: Twilio sid, `<channel>/<ts>` for Slack, PagerDuty dedup key, the
   *  `Idempotency-Key` (= page key) for webhooks. */
  providerId?: string;
  /** Why it was skipped. */
  reason?: string;
  error?: PageError;
}

export interface PageResult {
  pageKey: string;
  /** `sent` if any recipient got it; else `failed` if any send failed; else `skipped`. */
  status: 'sent' | 'failed' | 'skipped';
  channel: PageChannel;
  recipients: PageRecipient[];
  providerIds: string[];
  /** The first final failure (also set when other recipients were reached). */
  error?: PageError;
  /** Why nothing was sent, for `skipped`. */
  reason?: string;
}

/** Message bodies for each channel; the defaults are plain and self-contained. */
export interface PageRenderers {
  slack(req: PageRequest): { text: string; blocks?: SlackBlock[] };
  sms(req: PageRequest): string;
  twiml(req: PageRequest): string;
  webhook(req: PageRequest, recipients: ResolvedRecipients): unknown;
}

export interface PagingDeps {
  /** The current on-call resolver (a getter so config reloads apply to new pages). */
  oncall: () => TargetResolver;
  slack?: SlackClient;
  twilio?: TwilioClient;
  pagerduty?: PagerDutyClient;
  webhooks?: Record<string, { url: string; secret?: string }>;
  /** Defaults to {@link createWebhookSender} on `clock`. */
  webhookSender?: WebhookSender;
  pageLog: PageLog;
  /**
   * How long a claim in the page log keeps other activity executions from sending the same page
   * (default {@link DEFAULT_PAGE_CLAIM_LEASE_MS}). Later attempts of the same activity take over at once.
   */
  claimLeaseMs?: number;
  clock: Clock;
  render?: Partial<PageRenderers>;
}

export type { SlackNotice } from './slack-post';

/** Longer than the paging activities' start-to-close timeout, so a live attempt keeps its claim. */
export const DEFAULT_PAGE_CLAIM_LEASE_MS = 2 * 60_000;

/** How far before a claim Twilio's lists are searched: its `date_created` has whole seconds and its own clock. */
const SMS_LOOKBACK_MS = 15 * 60_000;
/** Slack's `ts` comes from Slack's clock: look a little before the claim. */
const SLACK_LOOKBACK_MS = 60_000;
/** Calls are matched by number and time alone, so their window stays short. */
const CALL_LOOKBACK_MS = 60_000;

/** Outcome of a PagerDuty acknowledge/resolve. */
export type PagerDutyUpdateResult =
  { status: 'sent'; dedupKey: string } | { status: 'skipped'; reason: string };

const PD_SEVERITY: Record<Severity, PagerDutySeverity> = {
  P1: 'critical',
  P2: 'error',
  P3: 'warning',
  P4: 'info',
};

/** One planned send inside a page. */
type Delivery =
  | { kind: 'skip'; personId?: string; address: string; reason: string }
  | {
      kind: 'send';
      key: string;
      personId?: string;
      address: string;
      send: (signal: AbortSignal | undefined) => Promise<string>;
      /**
       * Asks the provider whether this send already went out since `since` (ms), for a claim an earlier
       * holder never completed; absent when the provider cannot tell (a resend then relies on its own
       * de-duplication, if any).
       */
      find?: (since: number, signal: AbortSignal | undefined) => Promise<string | undefined>;
    };

/**
 * Paging activities. Failure contract (activity retry policy decides the rest):
 * - 429 → retryable `RateLimited` with `nextRetryDelay` = Retry-After;
 * - 5xx / network → retryable `Unavailable`;
 * - other 4xx and final Slack errors → `pageTarget` RETURNS `{ status: 'failed', error }` (the workflow
 *   records it and moves on); `notifySlack`/`updateSlackMessage`/PagerDuty updates THROW non-retryable.
 * Idempotent per page and recipient through the injected {@link PageLog}: each is claimed before it is sent
 * and completed after; a claim an earlier attempt left open makes Twilio sends look for the message or call
 * first. Page log failures and claims held by another live execution are retryable `Unavailable`.
 */
export function createPagingActivities(deps: PagingDeps) {
  const render: PageRenderers = { ...defaultPageRenderers, ...deps.render };
  const webhookSender = deps.webhookSender ?? createWebhookSender({ now: () => deps.clock.now() });

  function plan(req: PageRequest, resolved: ResolvedRecipients): Delivery[] | PageError {
    switch (req.channel) {
      case 'slack': {
        const slack = deps.slack;
        if (!slack) return notConfigured('slack', 'Slack is not configured (SLACK_BOT_TOKEN)');
        const message = render.slack(req);
        // The message carries its page-log key as metadata: a resumed claim finds it in the history.
        const postKey = (recipient: string): string => `${req.pageKey}#${recipient}`;
        const toChannel = (channel: string): Delivery => {
          const key = `slack:${channelAddress(channel)}`;
          return {
            kind: 'send',
            key,
            address: channelAddress(channel),
            send: async () =>
              refId(await slack.postMessage({ channel, ...message, idempotencyKey: postKey(key) })),
            find: (since) =>
              slackLookup(() =>
                slack.findPosted({ channel, key: postKey(key), sinceMs: since - SLACK_LOOKBACK_MS }),
              ),
          };
        };
        const named = 'slack_channel' in req.target ? req.target.slack_channel : resolved.slackChannel;
        // `$incident` names the incident's own channel, which the request carries.
        const channel = named === INCIDENT_CHANNEL ? req.slackChannel : named;
        if (channel) return [toChannel(channel)];
        const deliveries = resolved.people.map((p): Delivery => {
          const user = p.slackUserId;
          if (!user)
            return { kind: 'skip', personId: p.id, address: `person:${p.id}`, reason: 'no Slack user id' };
          const key = `slack:@${user}`;
          return {
            kind: 'send',
            key,
            personId: p.id,
            address: `@${user}`,
            send: async () => refId(await slack.dm({ user, ...message, idempotencyKey: postKey(key) })),
            find: (since) =>
              slackLookup(() =>
                slack.findDm({ user, key: postKey(key), sinceMs: since - SLACK_LOOKBACK_MS }),
              ),
          };
        });
        if (!deliveries.some((d) => d.kind === 'send') && req.slackChannel) {
          deliveries.push(toChannel(req.slackChannel));
        }
        return deliveries;
      }
      case 'sms':
      case 'phone': {
        const twilio = deps.twilio;
        if (!twilio) return notConfigured('twilio', 'Twilio is not configured (TWILIO_* variables)');
        const channel = req.channel;
        return resolved.people.map((p): Delivery => {
          if (!p.phone) {
            return { kind: 'skip', personId: p.id, address: `person:${p.id}`, reason: 'no phone number' };
          }
          const to = p.phone;
          const key = `${channel}:${p.id}`;
          if (channel === 'phone') {
            return {
              kind: 'send',
              key,
              personId: p.id,
              address: maskPhone(to),
              send: async (signal) =>
                (await twilio.call({ to, twiml: render.twiml(req), ...sig(signal) })).sid,
              find: async (since, signal) =>
                (await twilio.findCall({ to, since: since - CALL_LOOKBACK_MS, ...sig(signal) }))?.sid,
            };
          }
          const marker = smsRefMarker(req.pageKey, key);
          return {
            kind: 'send',
            key,
            personId: p.id,
            address: maskPhone(to),
            send: async (signal) =>
              (await twilio.sendSms({ to, body: withMarker(render.sms(req), marker), ...sig(signal) })).sid,
            find: async (since, signal) =>
              (await twilio.findMessage({ to, marker, since: since - SMS_LOOKBACK_MS, ...sig(signal) }))?.sid,
          };
        });
      }
      case 'pagerduty': {
        const pd = deps.pagerduty;
        if (!pd) return notConfigured('pagerduty', 'PagerDuty is not configured (PAGERDUTY_ROUTING_KEY)');
        return [
          {
            kind: 'send',
            key: 'pagerduty',
            address: 'pagerduty',
            send: async (signal) =>
              (await pd.trigger({ ...pagerDutyEvent(req, resolved), ...sig(signal) })).dedupKey,
          },
        ];
      }
      case 'webhook': {
        const name = 'webhook' in req.target ? req.target.webhook : resolved.webhook;
        if (!name) return [{ kind: 'skip', address: 'webhook', reason: 'target names no webhook' }];
        const hook = deps.webhooks?.[name];
        if (!hook) return notConfigured('webhook', `webhook "${name}" is not configured`);
        return [
          {
            kind: 'send',
            key: `webhook:${name}`,
            address: `webhook:${name}`,
            send: async (signal) => {
              await webhookSender.send(
                { name, ...hook },
                { payload: render.webhook(req, resolved), idempotencyKey: req.pageKey, ...sig(signal) },
              );
              return req.pageKey;
            },
          },
        ];
      }
    }
  }

  const leaseMs = deps.claimLeaseMs ?? DEFAULT_PAGE_CLAIM_LEASE_MS;

  async function claim(key: PageLogKey, holder: PageLogHolder) {
    const claimed = await logged('claim', () => deps.pageLog.claim(key, holder, leaseMs));
    if (claimed.state === 'busy') {
      throw ApplicationFailure.create({
        type: ErrorType.Unavailable,
        message: `page ${key.pageKey}${key.recipient ? ` (${key.recipient})` : ''} is being sent by another activity execution`,
        nonRetryable: false,
        nextRetryDelay: claimed.retryAfterMs,
      });
    }
    return claimed;
  }

  /** Gives a claim back after a failed send, best effort: if the store is down too, its lease runs out. */
  async function release(key: PageLogKey, token: string, maybeSent: boolean): Promise<void> {
    await deps.pageLog.release(key, token, maybeSent).catch(() => undefined);
  }

  async function deliver(
    req: PageRequest,
    d: Delivery & { kind: 'send' },
    holder: PageLogHolder,
  ): Promise<PageRecipient> {
    const key = pageLogKey(req, d.key);
    const ctx = activityContext();
    if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    const claimed = await claim(key, holder);
    if (claimed.state === 'completed') return recipientOf(claimed.entry, d);

    ctx?.heartbeat({ pageKey: req.pageKey, recipient: d.key });
    const base = { ...(d.personId ? { personId: d.personId } : {}), address: d.address };
    let recipient: PageRecipient;
    let maybeSent = false;
    try {
      if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      // An earlier holder claimed this send and never recorded it: it may have crashed (or timed out)
      // after the provider took the message. Ask before sending again.
      const found =
        claimed.resumed && d.find ? await d.find(claimed.claimedAt, ctx?.cancellationSignal) : undefined;
      if (found !== undefined) {
        recipient = { ...base, status: 'sent', providerId: found };
      } else {
        maybeSent = true;
        const providerId = await d.send(ctx?.cancellationSignal);
        recipient = { ...base, status: 'sent', providerId };
      }
    } catch (err) {
      if (!isHttpFailure(err) || err.class.kind !== 'final') {
        // A 429 is an answer: the provider took nothing. Anything else (5xx, timeout) may have gone out.
        const certainlyNotSent = !maybeSent || (isHttpFailure(err) && err.class.kind === 'rate_limited');
        await release(key, claimed.token, !certainlyNotSent || claimed.resumed);
        throw isHttpFailure(err) ? toRetryableFailure(err) : err;
      }
      recipient = { ...base, status: 'failed', error: pageError(err) };
    }
    const recorded = await logged('complete', () =>
      deps.pageLog.complete(key, { kind: 'recipient', recipient }),
    );
    return recipientOf(recorded.entry, d);
  }

  async function page(req: PageRequest, holder: PageLogHolder): Promise<PageResult> {
    let resolved: ResolvedRecipients;
    try {
      resolved = deps.oncall()(req.target, req.atMs);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return failedPage(req, { type: ErrorType.NotFound, message, provider: 'oncall' });
    }
    const planned = plan(req, resolved);
    if (!Array.isArray(planned)) return failedPage(req, planned);
    const recipients: PageRecipient[] = [];
    for (const d of planned) {
      if (d.kind === 'send') {
        recipients.push(await deliver(req, d, holder));
      } else {
        const personId = d.personId ? { personId: d.personId } : {};
        recipients.push({ ...personId, address: d.address, status: 'skipped', reason: d.reason });
      }
    }
    return summarise(req, recipients);
  }

  return {
    /**
     * Pages one target on one channel. Recipients are resolved at `req.atMs`. Returns `failed` for final
     * provider errors, throws retryable failures for 429/5xx/network. Idempotent per `pageKey` and recipient.
     */
    async pageTarget(req: PageRequest): Promise<PageResult> {
      const holder = currentHolder();
      const key = pageLogKey(req);
      const claimed = await claim(key, holder);
      if (claimed.state === 'completed') return resultOf(claimed.entry, req);

      let result: PageResult;
      try {
        result = await page(req, holder);
      } catch (err) {
        // Recipients keep their own claims; the page's claim only has to let the retry in at once.
        await release(key, claimed.token, true);
        throw err;
      }
      const recorded = await logged('complete', () => deps.pageLog.complete(key, { kind: 'page', result }));
      return resultOf(recorded.entry, req);
    },

    /** Acknowledges the incident's PagerDuty alert (dedup key = incident id). Skipped when not configured. */
    async pagerDutyAcknowledge(incidentId: string): Promise<PagerDutyUpdateResult> {
      if (!deps.pagerduty) return { status: 'skipped', reason: 'PagerDuty is not configured' };
      try {
        return { status: 'sent', ...(await deps.pagerduty.acknowledge(incidentId)) };
      } catch (err) {
        throw toApplicationFailure(err);
      }
    },

    /** Resolves the incident's PagerDuty alert (dedup key = incident id). Skipped when not configured. */
    async pagerDutyResolve(incidentId: string): Promise<PagerDutyUpdateResult> {
      if (!deps.pagerduty) return { status: 'skipped', reason: 'PagerDuty is not configured' };
      try {
        return { status: 'sent', ...(await deps.pagerduty.resolve(incidentId)) };
      } catch (err) {
        throw toApplicationFailure(err);
      }
    },

    /**
     * Posts to a Slack channel (or thread), at most once per `idempotencyKey` ({@link postOnce}). Final
     * Slack errors throw non-retryable, with `details: [{ slackError }]`.
     */
    async notifySlack(notice: SlackNotice): Promise<SlackMessageRef> {
      const slack = requireSlack(deps.slack);
      try {
        return await postOnce(slack, notice, currentActivityRuntime().attempt, (message) => {
          Context.current().log.warn(message);
        });
      } catch (err) {
        throw toApplicationFailure(err);
      }
    },

    /** Edits a message posted earlier (`chat.update`). Same failure contract as {@link notifySlack}. */
    async updateSlackMessage(update: {
      channel: string;
      ts: string;
      text: string;
      blocks?: SlackBlock[];
    }): Promise<SlackMessageRef> {
      const slack = requireSlack(deps.slack);
      try {
        return await slack.update(update);
      } catch (err) {
        throw toApplicationFailure(err);
      }
    },
  };
}

export type PagingActivities = ReturnType<typeof createPagingActivities>;

/** Default message bodies. */
export const defaultPageRenderers: PageRenderers = {
  slack(req) {
    const headline = pageHeadline(req);
    const linkText = [
      req.links.incident ? `<${req.links.incident}|Incident>` : undefined,
      req.links.temporalUi ? `<${req.links.temporalUi}|Temporal UI>` : undefined,
    ].filter((l): l is string => l !== undefined);
    const blocks: SlackBlock[] = [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:rotating_light: *${escapeMrkdwn(headline)}*\nYou are paged: escalation L${req.level} (${escapeMrkdwn(req.levelName)}).`,
        },
      } as SlackBlock,
    ];
    if (linkText.length) {
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: linkText.join(' · ') }],
      } as SlackBlock);
    }
    return { text: `Page L${req.level} (${req.levelName}): ${headline}`, blocks };
  },
  sms(req) {
    const link = req.links.incident ? ` ${req.links.incident}` : '';
    return `incidentflow ${pageHeadline(req)} - L${req.level} ${req.levelName}.${link}`;
  },
  twiml(req) {
    // "INC-20261125-042" is read out as its daily sequence: "Incident 42".
    const spokenNumber = req.incidentNumber?.replace(/^INC-\d{8}-0*/, '');
    const number = spokenNumber ? `Incident ${spokenNumber}. ` : '';
    const severity = req.severity.split('').join(' ');
    const say = `Incident flow page. Severity ${severity}. ${number}${req.title}. Service ${req.service}. Escalation level ${req.level}.`;
    const spoken = escapeXml(say);
    return `<Response><Say>${spoken}</Say><Pause length="1"/><Say>${spoken}</Say></Response>`;
  },
  webhook(req, recipients) {
    return {
      event: 'incident.page',
      pageKey: req.pageKey,
      incidentId: req.incidentId,
      ...(req.incidentNumber !== undefined ? { incidentNumber: req.incidentNumber } : {}),
      level: req.level,
      levelName: req.levelName,
      severity: req.severity,
      title: req.title,
      service: req.service,
      target: req.target,
      oncall: recipients.people.map((p) => ({ id: p.id, name: p.name })),
      links: req.links,
      at: new Date(req.atMs).toISOString(),
    };
  },
};

/** `[P2] #42 DAG etl failed (etl-service)`. */
function pageHeadline(req: PageRequest): string {
  const number = req.incidentNumber !== undefined ? ` ${req.incidentNumber}` : '';
  return `[${req.severity}]${number} ${req.title} (${req.service})`;
}

function pagerDutyEvent(req: PageRequest, resolved: ResolvedRecipients) {
  const links = [
    req.links.incident ? { href: req.links.incident, text: 'Incident' } : undefined,
    req.links.temporalUi ? { href: req.links.temporalUi, text: 'Temporal UI' } : undefined,
  ].filter((l): l is { href: string; text: string } => l !== undefined);
  return {
    dedupKey: req.incidentId,
    summary: pageHeadline(req),
    source: req.service,
    severity: PD_SEVERITY[req.severity],
    timestamp: new Date(req.atMs).toISOString(),
    component: req.service,
    class: 'incident',
    customDetails: {
      incidentId: req.incidentId,
      ...(req.incidentNumber !== undefined ? { incidentNumber: req.incidentNumber } : {}),
      escalationLevel: req.level,
      levelName: req.levelName,
      oncall: resolved.people.map((p) => p.name),
    },
    links,
    ...(req.links.incident ? { clientUrl: req.links.incident } : {}),
  };
}

function summarise(req: PageRequest, recipients: PageRecipient[]): PageResult {
  const sent = recipients.filter((r) => r.status === 'sent');
  const failed = recipients.filter((r) => r.status === 'failed');
  const status = sent.length > 0 ? 'sent' : failed.length > 0 ? 'failed' : 'skipped';
  const result: PageResult = {
    pageKey: req.pageKey,
    status,
    channel: req.channel,
    recipients,
    providerIds: sent.map((r) => r.providerId).filter((id): id is string => id !== undefined),
  };
  const error = failed[0]?.error;
  if (error) result.error = error;
  if (status === 'skipped') {
    result.reason = recipients.length
      ? [...new Set(recipients.map((r) => r.reason).filter((r) => r !== undefined))].join('; ')
      : 'target resolved to nobody';
  }
  return result;
}

function failedPage(req: PageRequest, error: PageError): PageResult {
  return {
    pageKey: req.pageKey,
    status: 'failed',
    channel: req.channel,
    recipients: [],
    providerIds: [],
    error,
  };
}

function notConfigured(provider: string, message: string): PageError {
  return { type: ErrorType.NotConfigured, message, provider };
}

function pageError(err: HttpFailure): PageError {
  const type = err.class.kind === 'final' ? err.class.type : ErrorType.Unavailable;
  return {
    type,
    message: err.message,
    provider: err.provider,
    ...(err.code !== undefined ? { code: err.code } : {}),
  };
}

function toRetryableFailure(err: HttpFailure): ApplicationFailure {
  const details = [{ provider: err.provider, ...(err.code !== undefined ? { code: err.code } : {}) }];
  if (err.class.kind === 'rate_limited') {
    return ApplicationFailure.create({
      type: ErrorType.RateLimited,
      message: err.message,
      nonRetryable: false,
      nextRetryDelay: err.class.retryAfterMs,
      details,
    });
  }
  return ApplicationFailure.create({
    type: ErrorType.Unavailable,
    message: err.message,
    nonRetryable: false,
    details,
  });
}

/** Maps an adapter error for activities that throw on every failure (final ones non-retryable). */
function toApplicationFailure(err: unknown): unknown {
  if (!isHttpFailure(err)) return err;
  if (err.class.kind !== 'final') return toRetryableFailure(err);
  const slackError = (err as { slackError?: unknown }).slackError;
  return ApplicationFailure.create({
    type: err.class.type,
    message: err.message,
    nonRetryable: true,
    details: [
      typeof slackError === 'string'
        ? { slackError }
        : { provider: err.provider, ...(err.code !== undefined ? { code: err.code } : {}) },
    ],
  });
}

function requireSlack(slack: SlackClient | undefined): SlackClient {
  if (slack) return slack;
  throw ApplicationFailure.create({
    type: ErrorType.NotConfigured,
    message: 'Slack is not configured (SLACK_BOT_TOKEN)',
    nonRetryable: true,
  });
}

/**
 * Who is paging: the activity execution (workflow run + activity id) and its attempt. Outside an activity
 * (tests, scripts) every call is its own execution.
 */
function currentHolder(): PageLogHolder {
  const info = activityContext()?.info;
  if (!info) return { execution: `local:${randomUUID()}`, attempt: 1 };
  const wf = info.workflowExecution;
  const run = wf ? `${wf.workflowId}/${wf.runId}` : 'standalone';
  return { execution: `${run}/${info.activityId}`, attempt: info.attempt };
}

/** Turns a page log failure (the store is down) into a retryable one: nothing was sent because of it. */
async function logged<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw ApplicationFailure.create({
      type: ErrorType.Unavailable,
      message: `page log ${operation} failed: ${message}`,
      nonRetryable: false,
    });
  }
}

function recipientOf(entry: PageLogEntry, d: Delivery & { kind: 'send' }): PageRecipient {
  if (entry.kind === 'recipient') return entry.recipient;
  throw new Error(`page log: recipient ${d.key} holds a page entry`);
}

function resultOf(entry: PageLogEntry, req: PageRequest): PageResult {
  if (entry.kind === 'page') return entry.result;
  throw new Error(`page log: page ${req.pageKey} holds a recipient entry`);
}

/**
 * `[ref 1a2b3c4d5e]`: a short stable marker of one recipient's SMS, so a message found in Twilio's list
 * can be matched to this page exactly.
 */
export function smsRefMarker(pageKey: string, recipientKey: string): string {
  const digest = createHash('sha256').update(`${pageKey}#${recipientKey}`).digest('hex');
  return `[ref ${digest.slice(0, 10)}]`;
}

/** The body with the marker at its end, shortened first so Twilio's length limit never cuts the marker. */
function withMarker(body: string, marker: string): string {
  const room = TWILIO_MAX_SMS_BODY - marker.length - 1;
  const text = body.length <= room ? body : `${body.slice(0, room - 1)}…`;
  return `${text} ${marker}`;
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function refId(ref: SlackMessageRef): string {
  return `${ref.channel}/${ref.ts}`;
}

/**
 * A Slack history lookup for a resumed claim. A lookup refused for good (no `channels:history` scope, say)
 * counts as "not found", so the page is sent: a duplicate page beats a lost one.
 */
async function slackLookup(find: () => Promise<SlackMessageRef | undefined>): Promise<string | undefined> {
  try {
    const ref = await find();
    return ref ? refId(ref) : undefined;
  } catch (err) {
    if (isHttpFailure(err) && err.class.kind === 'final') return undefined;
    throw err;
  }
}

function channelAddress(channel: string): string {
  return channel.startsWith('#') ? channel : `#${channel}`;
}

function sig(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

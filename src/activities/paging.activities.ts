import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PagerDutyClient, PagerDutySeverity } from '../adapters/pagerduty';
import type { SlackBlock, SlackClient, SlackMessageRef } from '../adapters/slack';
import type { TwilioClient } from '../adapters/twilio';
import { createWebhookSender, type WebhookSender } from '../adapters/webhook';
import { type HttpFailure, isHttpFailure } from '../adapters/http-client';
import { INCIDENT_CHANNEL } from '../domain/escalation-target';
import { ErrorType } from '../domain/errors';
import { maskPhone } from '../domain/masking';
import type { Severity } from '../domain/severity';
import type { Clock } from './clock';
import type { PageLog } from './page-log';
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
  clock: Clock;
  render?: Partial<PageRenderers>;
}

export type { SlackNotice } from './slack-post';

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
    };

/**
 * Paging activities. Failure contract (activity retry policy decides the rest):
 * - 429 → retryable `RateLimited` with `nextRetryDelay` = Retry-After;
 * - 5xx / network → retryable `Unavailable`;
 * - other 4xx and final Slack errors → `pageTarget` RETURNS `{ status: 'failed', error }` (the workflow
 *   records it and moves on); `notifySlack`/`updateSlackMessage`/PagerDuty updates THROW non-retryable.
 * Idempotent per page key and recipient through the injected {@link PageLog}.
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
        const toChannel = (channel: string): Delivery => ({
          kind: 'send',
          key: `slack:${channelAddress(channel)}`,
          address: channelAddress(channel),
          send: async () => refId(await slack.postMessage({ channel, ...message })),
        });
        const named = 'slack_channel' in req.target ? req.target.slack_channel : resolved.slackChannel;
        // `$incident` names the incident's own channel, which the request carries.
        const channel = named === INCIDENT_CHANNEL ? req.slackChannel : named;
        if (channel) return [toChannel(channel)];
        const deliveries = resolved.people.map((p): Delivery => {
          const user = p.slackUserId;
          if (!user)
            return { kind: 'skip', personId: p.id, address: `person:${p.id}`, reason: 'no Slack user id' };
          return {
            kind: 'send',
            key: `slack:@${user}`,
            personId: p.id,
            address: `@${user}`,
            send: async () => refId(await slack.dm({ user, ...message })),
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
          return {
            kind: 'send',
            key: `${channel}:${p.id}`,
            personId: p.id,
            address: maskPhone(to),
            send: async (signal) => {
              const sig = signal ? { signal } : {};
              const res =
                channel === 'sms'
                  ? await twilio.sendSms({ to, body: render.sms(req), ...sig })
                  : await twilio.call({ to, twiml: render.twiml(req), ...sig });
              return res.sid;
            },
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

  async function deliver(req: PageRequest, d: Delivery & { kind: 'send' }): Promise<PageRecipient> {
    const logKey = `${req.pageKey}#${d.key}`;
    const recorded = await deps.pageLog.get(logKey);
    if (recorded?.kind === 'recipient') return recorded.recipient;

    const ctx = activityContext();
    ctx?.heartbeat({ pageKey: req.pageKey, recipient: d.key });
    if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;

    const base = { ...(d.personId ? { personId: d.personId } : {}), address: d.address };
    let recipient: PageRecipient;
    try {
      const providerId = await d.send(ctx?.cancellationSignal);
      recipient = { ...base, status: 'sent', providerId };
    } catch (err) {
      if (!isHttpFailure(err)) throw err;
      if (err.class.kind !== 'final') throw toRetryableFailure(err);
      recipient = { ...base, status: 'failed', error: pageError(err) };
    }
    await deps.pageLog.put(logKey, { kind: 'recipient', recipient });
    return recipient;
  }

  async function page(req: PageRequest): Promise<PageResult> {
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
        recipients.push(await deliver(req, d));
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
      const recorded = await deps.pageLog.get(req.pageKey);
      if (recorded?.kind === 'page') return recorded.result;

      const result = await page(req);
      await deps.pageLog.put(req.pageKey, { kind: 'page', result });
      return result;
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

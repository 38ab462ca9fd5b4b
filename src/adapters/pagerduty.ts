import { createHash } from 'node:crypto';
import { createHttpClient, type HttpResponse } from './http-client';

export const PAGERDUTY_MAX_SUMMARY = 1024;
export const PAGERDUTY_MAX_DEDUP_KEY = 255;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerDutyClientOptions {
  /** The 32-character Events API v2 integration key (`PAGERDUTY_ROUTING_KEY`). */
  routingKey: string;
  /** `PAGERDUTY_EVENTS_URL`; the test double's `/v2/enqueue` URL in tests. */
  eventsUrl?: string;
  /** Sent as `client` on triggers (shown in PagerDuty as the monitoring tool). */
  client?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface PagerDutyTrigger {
  /** Same key for the same incident: repeated triggers join one PagerDuty alert. */
  dedupKey: string;
  /** Truncated to 1024 characters. */
  summary: string;
  source: string;
  severity: PagerDutySeverity;
  /** ISO 8601. */
  timestamp?: string;
  component?: string;
  group?: string;
  class?: string;
  customDetails?: Record<string, unknown>;
  links?: Array<{ href: string; text?: string }>;
  clientUrl?: string;
  signal?: AbortSignal;
}

/** What PagerDuty accepted (202): the dedup key it filed the event under. */
export interface PagerDutyAccepted {
  dedupKey: string;
}

export interface PagerDutyClient {
  trigger(event: PagerDutyTrigger): Promise<PagerDutyAccepted>;
  acknowledge(dedupKey: string, signal?: AbortSignal): Promise<PagerDutyAccepted>;
  resolve(dedupKey: string, signal?: AbortSignal): Promise<PagerDutyAccepted>;
}

/**
 * PagerDuty Events API v2 client. No auth header: the routing key in the body is the credential, so it is
 * redacted from every failure message. 202 is success; 400 is final, 429 waits, 5xx/network retry.
 */
export function createPagerDutyClient(options: PagerDutyClientOptions): PagerDutyClient {
  const url = options.eventsUrl ?? 'https://events.pagerduty.com/v2/enqueue';
  const http = createHttpClient({
    provider: 'pagerduty',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    redact: [options.routingKey],
    describeError: describePagerDutyError,
  });

  async function enqueue(
    action: 'trigger' | 'acknowledge' | 'resolve',
    dedupKey: string,
    extra: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<PagerDutyAccepted> {
    const key = pagerDutyDedupKey(dedupKey);
    const res = await http.send({
      url,
      operation: `enqueue ${action}`,
      json: { routing_key: options.routingKey, event_action: action, dedup_key: key, ...extra },
      ...(signal ? { signal } : {}),
    });
    const json = res.json as { dedup_key?: unknown } | undefined;
    return { dedupKey: typeof json?.dedup_key === 'string' ? json.dedup_key : key };
  }

  return {
    trigger: (event) =>
      enqueue(
        'trigger',
        event.dedupKey,
        {
          payload: dropUndefined({
            summary: truncate(event.summary, PAGERDUTY_MAX_SUMMARY),
            source: event.source,
            severity: event.severity,
            timestamp: event.timestamp,
            component: event.component,
            group: event.group,
            class: event.class,
            custom_details: event.customDetails,
          }),
          ...dropUndefined({
            client: options.client,
            client_url: event.clientUrl,
            links: event.links?.length ? event.links : undefined,
          }),
        },
        event.signal,
      ),
    acknowledge: (dedupKey, signal) => enqueue('acknowledge', dedupKey, {}, signal),
    resolve: (dedupKey, signal) => enqueue('resolve', dedupKey, {}, signal),
  };
}

/**
 * A dedup key PagerDuty accepts (≤255 characters), stable for the same input: longer keys keep a prefix
 * and gain a SHA-256 suffix.
 */
export function pagerDutyDedupKey(key: string): string {
  if (key.length <= PAGERDUTY_MAX_DEDUP_KEY) return key;
  const hash = createHash('sha256').update(key).digest('hex');
  return `${key.slice(0, PAGERDUTY_MAX_DEDUP_KEY - hash.length - 1)}:${hash}`;
}

/** PagerDuty error JSON: `{status, message, errors: [...]}`. */
function describePagerDutyError(res: HttpResponse): { detail?: string; code?: string } {
  const json = res.json as { status?: unknown; message?: unknown; errors?: unknown } | undefined;
  const parts: string[] = [];
  if (typeof json?.message === 'string') parts.push(json.message);
  if (Array.isArray(json?.errors)) parts.push(...json.errors.filter((e) => typeof e === 'string'));
  return {
    ...(parts.length ? { detail: parts.join('; ') } : {}),
    ...(typeof json?.status === 'string' ? { code: json.status } : {}),
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

import { randomBytes } from 'node:crypto';
import {
  FailureQueue,
  header,
  listen,
  type ListenOptions,
  parseJson,
  sendJson,
  sendText,
} from './http-server';

/**
 * PagerDuty Events API v2 test double (external-apis.md §6): `POST /v2/enqueue`, JSON, no auth header
 * (the 32-character `routing_key` is the credential). 202 `{status, message, dedup_key}`; invalid events
 * 400 `{status: "invalid event", message, errors[]}`; programmable 429 and 5xx. Tracks alert state per
 * dedup key: ack/resolve of an unknown key are dropped silently, a trigger after resolve opens a new alert.
 */
export interface PagerDutyDoubleOptions extends ListenOptions {
  /** When set, only these routing keys are accepted (others: 400 invalid event). */
  routingKeys?: string[];
}

export type PagerDutyFailure = { status: 429; retryAfter?: number } | { status: 500 | 502 | 503 };

export interface PagerDutyRequest {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  status: number;
  response: unknown;
  at: number;
}

/** An accepted event, as received. */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: string;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: Array<{ href: string; text?: string }>;
  images?: Array<{ src: string; href?: string; alt?: string }>;
}

export interface PagerDutyAlert {
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  /** Trigger events that joined this alert (repeats with the same dedup key de-duplicate into it). */
  triggers: number;
  events: PagerDutyEvent[];
}

export interface PagerDutyDouble {
  url: string;
  /** `<url>/v2/enqueue`: the `PAGERDUTY_EVENTS_URL`. */
  eventsUrl: string;
  /** Every request, including rejected ones. */
  requests: PagerDutyRequest[];
  /** Accepted events. */
  events: PagerDutyEvent[];
  /** Current alert of a dedup key (the newest one after a resolve + trigger). */
  alert(dedupKey: string): PagerDutyAlert | undefined;
  /** Every alert ever opened, oldest first. */
  alerts: PagerDutyAlert[];
  failNext(failure: PagerDutyFailure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const MAX_BYTES = 512 * 1024;

export async function startPagerDutyDouble(options: PagerDutyDoubleOptions = {}): Promise<PagerDutyDouble> {
  const requests: PagerDutyRequest[] = [];
  const events: PagerDutyEvent[] = [];
  const alerts: PagerDutyAlert[] = [];
  const current = new Map<string, PagerDutyAlert>();
  const failures = new FailureQueue<PagerDutyFailure>();

  const server = await listen((req, raw, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const parsed = parseJson(raw);
    const body = parsed.ok ? parsed.value : raw;
    const reply = (status: number, response: unknown, headers: Record<string, string> = {}) => {
      requests.push({ headers: req.headers, body, status, response, at: Date.now() });
      sendJson(res, status, response, headers);
    };
    if (url.pathname !== '/v2/enqueue' || req.method !== 'POST') {
      requests.push({ headers: req.headers, body, status: 404, response: 'not found', at: Date.now() });
      return sendText(res, 404, 'not found');
    }
    const failure = failures.take('enqueue');
    if (failure) {
      if (failure.status === 429) {
        const retryAfter = (failure as { retryAfter?: number }).retryAfter;
        return reply(
          429,
          {
            status: 'throttle event',
            message: 'Requests for this service are arriving too quickly.  Please retry later.',
          },
          retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {},
        );
      }
      requests.push({
        headers: req.headers,
        body,
        status: failure.status,
        response: 'error',
        at: Date.now(),
      });
      return sendText(res, failure.status, 'Internal Server Error');
    }
    if (!header(req, 'content-type')?.startsWith('application/json') || !parsed.ok) {
      return reply(400, {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ['Invalid JSON'],
      });
    }
    if (Buffer.byteLength(raw) > MAX_BYTES) {
      return reply(400, {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ['Event too large'],
      });
    }
    const errors = validate(body, options.routingKeys);
    if (errors.length)
      return reply(400, { status: 'invalid event', message: 'Event object is invalid', errors });

    const event = body as PagerDutyEvent;
    const dedupKey = event.dedup_key || randomBytes(16).toString('hex');
    const accepted = { ...event, dedup_key: dedupKey };
    events.push(accepted);
    const alert = current.get(dedupKey);
    if (event.event_action === 'trigger') {
      if (alert && alert.status !== 'resolved') {
        alert.triggers += 1;
        alert.events.push(accepted);
      } else {
        const opened: PagerDutyAlert = { dedupKey, status: 'triggered', triggers: 1, events: [accepted] };
        current.set(dedupKey, opened);
        alerts.push(opened);
      }
    } else if (alert && alert.status !== 'resolved') {
      alert.status = event.event_action === 'acknowledge' ? 'acknowledged' : 'resolved';
      alert.events.push(accepted);
    }
    reply(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }, options);

  return {
    url: server.url,
    eventsUrl: `${server.url}/v2/enqueue`,
    requests,
    events,
    alert: (dedupKey) => current.get(dedupKey),
    alerts,
    failNext: (failure, times = 1) => failures.add('enqueue', failure, times),
    reset() {
      requests.length = 0;
      events.length = 0;
      alerts.length = 0;
      current.clear();
      failures.clear();
    },
    close: () => server.close(),
  };
}

function blank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}

function validate(body: unknown, routingKeys: string[] | undefined): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return ['Event object is not an object'];
  const e = body as Record<string, unknown>;
  const errors: string[] = [];
  if (blank(e.routing_key)) errors.push("'routing_key' is missing or blank");
  else if ((e.routing_key as string).length !== 32) {
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  } else if (routingKeys && !routingKeys.includes(e.routing_key as string))
    errors.push('Invalid routing key');
  if (!ACTIONS.includes(e.event_action as string)) {
    errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
  }
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) {
    errors.push("'dedup_key' is invalid (must be a string of at most 255 characters)");
  }
  if (e.event_action !== 'trigger') {
    if (blank(e.dedup_key) && ACTIONS.includes(e.event_action as string))
      errors.push("'dedup_key' is missing or blank");
    return errors;
  }
  const p = e.payload;
  if (typeof p !== 'object' || p === null) return [...errors, "'payload' is missing or blank"];
  const payload = p as Record<string, unknown>;
  if (blank(payload.summary)) errors.push("'payload.summary' is missing or blank");
  else if ((payload.summary as string).length > 1024)
    errors.push("'payload.summary' is too long (max 1024 characters)");
  if (blank(payload.source)) errors.push("'payload.source' is missing or blank");
  if (!SEVERITIES.includes(payload.severity as string)) {
    errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
  }
  if (
    payload.timestamp !== undefined &&
    (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))
  ) {
    errors.push("'payload.timestamp' is invalid (must be ISO 8601)");
  }
  if (
    payload.custom_details !== undefined &&
    (typeof payload.custom_details !== 'object' || payload.custom_details === null)
  ) {
    errors.push("'payload.custom_details' must be an object");
  }
  if (
    e.links !== undefined &&
    (!Array.isArray(e.links) || e.links.some((l) => blank((l as { href?: unknown })?.href)))
  ) {
    errors.push("'links' is invalid (each link needs an href)");
  }
  if (
    e.images !== undefined &&
    (!Array.isArray(e.images) ||
      e.images.some((i) => {
        const src = (i as { src?: unknown } | null)?.src;
        return typeof src !== 'string' || !src.startsWith('https://');
      }))
  ) {
    errors.push("'images' is invalid (each image needs an https src)");
  }
  return errors;
}

import { randomBytes } from 'node:crypto';
import {
  FailureQueue,
  header,
  listen,
  type ListenOptions,
  parseForm,
  sendJson,
  sendText,
} from './http-server';

/**
 * Twilio REST (2010-04-01) test double (external-apis.md §6): `POST /2010-04-01/Accounts/{sid}/Messages.json`
 * and `Calls.json`, form-urlencoded `To`/`From`/`Body` or `Twiml`/`Url`, HTTP Basic `AccountSid:AuthToken`.
 * Answers 201 with Twilio-shaped JSON; errors as `{code, message, more_info, status}`. `GET` on the same
 * paths lists what was created, newest first, in Twilio's page shape (`messages`/`calls`, `next_page_uri`).
 */
export interface TwilioDoubleOptions extends ListenOptions {
  /** Default: a fixed `AC…` test sid. */
  accountSid?: string;
  /** Default: random. */
  authToken?: string;
}

export type TwilioResource = 'Messages' | 'Calls';

/**
 * A programmed failure of a create (POST): a Twilio error (400 + code), a 429 with Retry-After, a 5xx
 * (with `created: true`, the message or call is created first, as when Twilio fails after accepting), or a
 * timeout: the message or call is created and the answer comes after `answerAfterMs`, or never.
 */
export type TwilioFailure =
  | { status: 400 | 404; code: number; message?: string }
  | { status: 429; retryAfter?: number }
  | { status: 500 | 502 | 503; created?: boolean }
  | { timeout: 'never' }
  | { timeout: 'delay'; answerAfterMs: number };

export interface TwilioRequest {
  method: string;
  path: string;
  resource?: TwilioResource;
  /** Account sid in the URL. */
  accountSid?: string;
  /** Decoded Basic credentials, if any. */
  auth?: { username: string; password: string };
  contentType?: string;
  form: Record<string, string>;
  status: number;
  response: unknown;
  at: number;
}

export interface TwilioSent {
  sid: string;
  to: string;
  from: string;
  /** When the double created it (ms). */
  createdAt: number;
  /** SMS body. */
  body?: string;
  /** Inline TwiML of a call. */
  twiml?: string;
  url?: string;
}

export interface TwilioDouble {
  url: string;
  accountSid: string;
  authToken: string;
  /** Every request, including rejected ones (a request never answered has `status: 0`). */
  requests: TwilioRequest[];
  /** Accepted SMS. */
  messages: TwilioSent[];
  /** Accepted voice calls. */
  calls: TwilioSent[];
  /**
   * The next `times` requests to `resource` (or `*`) fail; with `match.to`, only requests to that number
   * (checked before unmatched failures).
   */
  failNext(
    resource: TwilioResource | '*',
    failure: TwilioFailure,
    times?: number,
    match?: { to: string },
  ): void;
  /** Creates a message as if sent earlier (e.g. by a worker that crashed before recording it). */
  seedMessage(input: { to: string; from: string; body: string; createdAt?: number }): TwilioSent;
  reset(): void;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_BODY = 1600;

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

export async function startTwilioDouble(options: TwilioDoubleOptions = {}): Promise<TwilioDouble> {
  const accountSid = options.accountSid ?? 'ACdeadbeefdeadbeefdeadbeefdeadbeef';
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const requests: TwilioRequest[] = [];
  const messages: TwilioSent[] = [];
  const calls: TwilioSent[] = [];
  const failures = new FailureQueue<TwilioFailure>();

  /** Twilio's JSON of every created message and call, oldest first. */
  const resources: Record<TwilioResource, Record<string, unknown>[]> = { Messages: [], Calls: [] };

  function create(
    resource: TwilioResource,
    form: Record<string, string>,
    createdAt = Date.now(),
  ): Record<string, unknown> {
    const date = rfc2822(createdAt);
    const prefix = resource === 'Messages' ? 'SM' : 'CA';
    const sid = prefix + randomBytes(16).toString('hex');
    const uri = `/2010-04-01/Accounts/${accountSid}/${resource}/${sid}.json`;
    const common = {
      account_sid: accountSid,
      api_version: '2010-04-01',
      date_created: date,
      date_updated: date,
      direction: 'outbound-api',
      from: form.From,
      to: form.To,
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
      uri,
    };
    if (resource === 'Messages') {
      messages.push({ sid, to: form.To!, from: form.From!, createdAt, body: form.Body! });
      const message = {
        ...common,
        body: form.Body,
        date_sent: null,
        error_code: null,
        error_message: null,
        messaging_service_sid: null,
        num_media: '0',
        num_segments: String(Math.max(1, Math.ceil(form.Body!.length / 153))),
        subresource_uris: { media: uri.replace('.json', '/Media.json') },
      };
      // Listed later as sent: the double hands every message to the carrier at once.
      resources.Messages.push({ ...message, status: 'sent', date_sent: date, date_updated: date });
      return message;
    }
    calls.push({
      sid,
      to: form.To!,
      from: form.From!,
      createdAt,
      ...(form.Twiml ? { twiml: form.Twiml } : {}),
      ...(form.Url ? { url: form.Url } : {}),
    });
    const call = {
      ...common,
      answered_by: null,
      caller_name: null,
      duration: null,
      end_time: null,
      parent_call_sid: null,
      start_time: null,
      subresource_uris: { recordings: uri.replace('.json', '/Recordings.json') },
    };
    // Listed as still queued: nobody picks up in a test, so `start_time` stays null.
    resources.Calls.push(call);
    return call;
  }

  /**
   * One page of a list, newest first: `To`, `From`, `DateSent`/`DateSent<`/`DateSent>` (messages),
   * `StartTime`/`StartTime<`/`StartTime>` (calls; entries without the date never match a date filter),
   * `PageSize` (default 50, at most 1000), `Page` and `PageToken` (`PA` + the last sid of the previous page).
   */
  function list(resource: TwilioResource, url: URL): Record<string, unknown> {
    const q = url.searchParams;
    const dateField = resource === 'Messages' ? 'date_sent' : 'start_time';
    const dateParam = resource === 'Messages' ? 'DateSent' : 'StartTime';
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const bound = (name: string) => (q.has(name) ? Date.parse(q.get(name)!) : undefined);
    const [on, before, after] = [bound(dateParam), bound(`${dateParam}<`), bound(`${dateParam}>`)];
    const all = [...resources[resource]].reverse().filter((item) => {
      if (q.has('To') && item.to !== q.get('To')) return false;
      if (q.has('From') && item.from !== q.get('From')) return false;
      if (on === undefined && before === undefined && after === undefined) return true;
      const raw = item[dateField];
      if (typeof raw !== 'string') return false;
      const at = Date.parse(raw);
      const dayOnly = (name: string) => /^\d{4}-\d{2}-\d{2}$/.test(q.get(name) ?? '');
      if (on !== undefined && day(at) !== day(on)) return false;
      if (before !== undefined && (dayOnly(`${dateParam}<`) ? day(at) > day(before) : at > before))
        return false;
      if (after !== undefined && (dayOnly(`${dateParam}>`) ? day(at) < day(after) : at < after)) return false;
      return true;
    });
    const pageSize = Math.min(1000, Math.max(1, Number(q.get('PageSize') ?? 50) || 50));
    const page = Math.max(0, Number(q.get('Page') ?? 0) || 0);
    const token = q.get('PageToken');
    const tokenAt = token ? all.findIndex((item) => `PA${String(item.sid)}` === token) + 1 : 0;
    const start = token ? tokenAt : page * pageSize;
    const items = all.slice(start, start + pageSize);
    const path = `/2010-04-01/Accounts/${accountSid}/${resource}.json`;
    const pageUri = (n: number, extra: Record<string, string> = {}) => {
      const params = new URLSearchParams(q);
      params.delete('PageToken');
      params.set('PageSize', String(pageSize));
      params.set('Page', String(n));
      for (const [k, v] of Object.entries(extra)) params.set(k, v);
      return `${path}?${params.toString()}`;
    };
    const last = items[items.length - 1];
    const more = start + pageSize < all.length && last !== undefined;
    return {
      [resource === 'Messages' ? 'messages' : 'calls']: items,
      end: start + Math.max(0, items.length - 1),
      first_page_uri: pageUri(0),
      next_page_uri: more ? pageUri(page + 1, { PageToken: `PA${String(last.sid)}` }) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start,
      uri: `${path}?${q.toString()}`,
    };
  }

  const server = await listen((req, raw, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(url.pathname);
    const contentType = header(req, 'content-type');
    const form = contentType?.startsWith('application/x-www-form-urlencoded') ? parseForm(raw) : {};
    const auth = basicAuth(header(req, 'authorization'));
    const entry: Omit<TwilioRequest, 'status' | 'response' | 'at'> = {
      method: req.method ?? 'GET',
      path: url.pathname,
      ...(match ? { resource: match[2] as TwilioResource, accountSid: decodeURIComponent(match[1]!) } : {}),
      ...(auth ? { auth } : {}),
      ...(contentType ? { contentType } : {}),
      form,
    };
    const reply = (status: number, response: unknown, headers: Record<string, string> = {}) => {
      requests.push({ ...entry, status, response, at: Date.now() });
      sendJson(res, status, response, headers);
    };

    if (!match || (req.method !== 'POST' && req.method !== 'GET')) {
      return reply(404, twilioError(404, 20404, 'The requested resource was not found'));
    }
    const resource = match[2] as TwilioResource;
    if (
      !auth ||
      auth.username !== accountSid ||
      auth.password !== authToken ||
      entry.accountSid !== accountSid
    ) {
      return reply(401, twilioError(401, 20003, 'Authenticate'), {
        'www-authenticate': 'Basic realm="Twilio API"',
      });
    }

    if (req.method === 'GET') return reply(200, list(resource, url));

    const to = form.To ?? '';
    const failure =
      failures.take(`${resource} ${to}`, false) ?? failures.take(`* ${to}`, false) ?? failures.take(resource);
    if (failure && 'timeout' in failure) {
      const invalid = validate(resource, form);
      if (invalid) return reply(400, twilioError(400, invalid.code, invalid.message));
      const created = create(resource, form);
      if (failure.timeout === 'never') {
        // Accepted and created, but the answer never comes: the client times out.
        requests.push({ ...entry, status: 0, response: undefined, at: Date.now() });
        return;
      }
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        reply(201, created);
      }, failure.answerAfterMs);
      res.on('close', () => {
        clearTimeout(timer);
        // The client gave up first.
        if (!answered) requests.push({ ...entry, status: 0, response: undefined, at: Date.now() });
      });
      return;
    }
    if (failure) {
      if ('created' in failure && failure.created) {
        const invalid = validate(resource, form);
        if (!invalid) create(resource, form);
      }
      if (failure.status === 429) {
        const retryAfter = String((failure as { retryAfter?: number }).retryAfter ?? 1);
        return reply(429, twilioError(429, 20429, 'Too Many Requests'), { 'retry-after': retryAfter });
      }
      if ('code' in failure) {
        const message = failure.message ?? defaultMessage(failure.code, form.To);
        return reply(failure.status, twilioError(failure.status, failure.code, message));
      }
      requests.push({ ...entry, status: failure.status, response: 'error', at: Date.now() });
      return sendText(res, failure.status, 'Service Unavailable');
    }

    const invalid = validate(resource, form);
    if (invalid) return reply(400, twilioError(400, invalid.code, invalid.message));

    return reply(201, create(resource, form));
  }, options);

  return {
    url: server.url,
    accountSid,
    authToken,
    requests,
    messages,
    calls,
    seedMessage({ to, from, body, createdAt }) {
      const form = { To: to, From: from, Body: body };
      create('Messages', form, createdAt);
      return messages[messages.length - 1]!;
    },
    failNext: (resource, failure, times = 1, match) =>
      failures.add(match ? `${resource} ${match.to}` : resource, failure, times),
    reset() {
      requests.length = 0;
      messages.length = 0;
      calls.length = 0;
      resources.Messages.length = 0;
      resources.Calls.length = 0;
      failures.clear();
    },
    close: () => server.close(),
  };
}

function validate(
  resource: TwilioResource,
  form: Record<string, string>,
): { code: number; message: string } | undefined {
  if (!form.To) return { code: 21604, message: "A 'To' phone number is required." };
  if (!form.From && !form.MessagingServiceSid)
    return { code: 21603, message: "A 'From' phone number is required." };
  if (!E164.test(form.To)) return { code: 21211, message: defaultMessage(21211, form.To) };
  if (resource === 'Messages') {
    if (!form.Body && !form.MediaUrl) return { code: 21602, message: 'Message body is required.' };
    if ((form.Body ?? '').length > MAX_BODY) {
      return { code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' };
    }
  } else if (!form.Url && !form.Twiml && !form.ApplicationSid) {
    return { code: 21205, message: 'Url parameter is required.' };
  }
  return undefined;
}

function defaultMessage(code: number, to: string | undefined): string {
  if (code === 21211) return `The 'To' number ${to ?? ''} is not a valid phone number.`;
  return `Twilio error ${code}`;
}

/** Twilio's date format: `Sat, 05 Dec 2026 08:10:00 +0000`. */
function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function basicAuth(value: string | undefined): { username: string; password: string } | undefined {
  const encoded = /^Basic\s+(.+)$/i.exec(value ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

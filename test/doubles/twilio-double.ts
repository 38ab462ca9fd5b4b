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
 * Answers 201 with Twilio-shaped JSON; errors as `{code, message, more_info, status}`.
 */
export interface TwilioDoubleOptions extends ListenOptions {
  /** Default: a fixed `AC…` test sid. */
  accountSid?: string;
  /** Default: random. */
  authToken?: string;
}

export type TwilioResource = 'Messages' | 'Calls';

/** A programmed failure: a Twilio error (400 + code), a 429 with Retry-After, or a 5xx. */
export type TwilioFailure =
  | { status: 400 | 404; code: number; message?: string }
  | { status: 429; retryAfter?: number }
  | { status: 500 | 502 | 503 };

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
  /** Every request, including rejected ones. */
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

    if (!match || req.method !== 'POST') {
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

    const to = form.To ?? '';
    const failure =
      failures.take(`${resource} ${to}`, false) ?? failures.take(`* ${to}`, false) ?? failures.take(resource);
    if (failure) {
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

    const now = new Date().toUTCString().replace('GMT', '+0000');
    const prefix = resource === 'Messages' ? 'SM' : 'CA';
    const sid = prefix + randomBytes(16).toString('hex');
    const uri = `/2010-04-01/Accounts/${accountSid}/${resource}/${sid}.json`;
    const common = {
      account_sid: accountSid,
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
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
      messages.push({ sid, to: form.To!, from: form.From!, body: form.Body! });
      return reply(201, {
        ...common,
        body: form.Body,
        date_sent: null,
        error_code: null,
        error_message: null,
        messaging_service_sid: null,
        num_media: '0',
        num_segments: String(Math.max(1, Math.ceil(form.Body!.length / 153))),
        subresource_uris: { media: uri.replace('.json', '/Media.json') },
      });
    }
    calls.push({
      sid,
      to: form.To!,
      from: form.From!,
      ...(form.Twiml ? { twiml: form.Twiml } : {}),
      ...(form.Url ? { url: form.Url } : {}),
    });
    return reply(201, {
      ...common,
      answered_by: null,
      caller_name: null,
      duration: null,
      end_time: null,
      parent_call_sid: null,
      start_time: null,
      subresource_uris: { recordings: uri.replace('.json', '/Recordings.json') },
    });
  }, options);

  return {
    url: server.url,
    accountSid,
    authToken,
    requests,
    messages,
    calls,
    failNext: (resource, failure, times = 1, match) =>
      failures.add(match ? `${resource} ${match.to}` : resource, failure, times),
    reset() {
      requests.length = 0;
      messages.length = 0;
      calls.length = 0;
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

function basicAuth(value: string | undefined): { username: string; password: string } | undefined {
  const encoded = /^Basic\s+(.+)$/i.exec(value ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

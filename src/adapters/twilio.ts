import { maskPhonesInText } from '../domain/masking';
import { createHttpClient, type HttpResponse } from './http-client';

/** Twilio accepts at most 1600 characters in an SMS body (error 21617 otherwise). */
export const TWILIO_MAX_SMS_BODY = 1600;

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** The Twilio number messages and calls come from (E.164). */
  from: string;
  /** `TWILIO_API_URL`; the test double's URL in tests. */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** What Twilio answered with 201: the resource sid (`SM…`, `CA…`) and its first status (`queued`). */
export interface TwilioResult {
  sid: string;
  status: string;
}

/** A message or call found in Twilio's lists. */
export interface TwilioListed {
  sid: string;
  status: string;
  /** `date_created`, ms since the epoch. */
  createdAt: number;
}

export interface TwilioClient {
  /** Sends an SMS (`Messages.json`); a body over 1600 characters is truncated. */
  sendSms(input: { to: string; body: string; signal?: AbortSignal }): Promise<TwilioResult>;
  /** Places a voice call (`Calls.json`) that speaks inline TwiML. */
  call(input: { to: string; twiml: string; signal?: AbortSignal }): Promise<TwilioResult>;
  /**
   * The newest SMS from our number to `to`, created at or after `since` (ms), whose body contains `marker`
   * (`GET Messages.json?To=&From=`, newest first, following `next_page_uri`).
   */
  findMessage(input: {
    to: string;
    since: number;
    marker: string;
    signal?: AbortSignal;
  }): Promise<TwilioListed | undefined>;
  /** The newest call from our number to `to` created at or after `since` (ms) (`GET Calls.json?To=&From=`). */
  findCall(input: { to: string; since: number; signal?: AbortSignal }): Promise<TwilioListed | undefined>;
}

/** Pages of a list read at most, newest first; older entries than `since` end the walk anyway. */
const MAX_LIST_PAGES = 10;
const LIST_PAGE_SIZE = 50;

/**
 * Thin Twilio REST client (2010-04-01): form-encoded `To`/`From`/`Body|Twiml`, HTTP Basic auth.
 * Failures are {@link HttpFailure}s carrying Twilio's error `code` (e.g. `21211` invalid To); their
 * messages never contain the auth token or account sid, and phone numbers in them are masked.
 */
export function createTwilioClient(options: TwilioClientOptions): TwilioClient {
  const base = (options.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const accountPath = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}`;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const http = createHttpClient({
    provider: 'twilio',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    redact: [options.authToken, options.accountSid],
    describeError: describeTwilioError,
  });

  async function create(
    resource: 'Messages' | 'Calls',
    form: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<TwilioResult> {
    const res = await http.send({
      url: `${accountPath}/${resource}.json`,
      operation: `${resource}.create`,
      headers: { authorization, accept: 'application/json' },
      form,
      ...(signal ? { signal } : {}),
    });
    return parseCreated(res);
  }

  // No `DateSent>`/`StartTime>` filter: a message still queued has no date_sent and a call not yet
  // started has no start_time, and those are exactly the ones a crashed sender may have left behind.
  // Lists come newest first, so the walk stops at the first entry created before `since`.
  async function find(
    resource: 'Messages' | 'Calls',
    to: string,
    since: number,
    matches: (item: Record<string, unknown>) => boolean,
    signal: AbortSignal | undefined,
  ): Promise<TwilioListed | undefined> {
    const query = new URLSearchParams({ To: to, From: options.from, PageSize: String(LIST_PAGE_SIZE) });
    let url: string | undefined = `${accountPath}/${resource}.json?${query.toString()}`;
    const key = resource === 'Messages' ? 'messages' : 'calls';
    for (let page = 0; url !== undefined && page < MAX_LIST_PAGES; page++) {
      const res = await http.send({
        method: 'GET',
        url,
        operation: `${resource}.list`,
        headers: { authorization, accept: 'application/json' },
        ...(signal ? { signal } : {}),
      });
      const body = res.json as Record<string, unknown> | undefined;
      const items = Array.isArray(body?.[key]) ? (body[key] as Record<string, unknown>[]) : [];
      for (const item of items) {
        const createdAt = Date.parse(String(item.date_created));
        if (Number.isFinite(createdAt) && createdAt < since) return undefined;
        if (item.to === to && item.from === options.from && matches(item) && typeof item.sid === 'string') {
          return {
            sid: item.sid,
            status: typeof item.status === 'string' ? item.status : 'unknown',
            createdAt,
          };
        }
      }
      const next = body?.next_page_uri;
      url = typeof next === 'string' && next.startsWith('/') ? `${base}${next}` : undefined;
    }
    return undefined;
  }

  return {
    sendSms: ({ to, body, signal }) =>
      create('Messages', { To: to, From: options.from, Body: truncate(body, TWILIO_MAX_SMS_BODY) }, signal),
    call: ({ to, twiml, signal }) => create('Calls', { To: to, From: options.from, Twiml: twiml }, signal),
    findMessage: ({ to, since, marker, signal }) =>
      find('Messages', to, since, (m) => typeof m.body === 'string' && m.body.includes(marker), signal),
    findCall: ({ to, since, signal }) => find('Calls', to, since, () => true, signal),
  };
}

/** A 2xx means Twilio took the request: never fail (and so resend) because its body looks odd. */
function parseCreated(res: HttpResponse): TwilioResult {
  const json = res.json as { sid?: unknown; status?: unknown } | undefined;
  return {
    sid: typeof json?.sid === 'string' ? json.sid : 'unknown',
    status: typeof json?.status === 'string' ? json.status : 'unknown',
  };
}

/** Twilio error JSON: `{code, message, more_info, status}`. */
function describeTwilioError(res: HttpResponse): { detail?: string; code?: string } {
  const json = res.json as { code?: unknown; message?: unknown } | undefined;
  const code =
    typeof json?.code === 'number' || typeof json?.code === 'string' ? String(json.code) : undefined;
  const message = typeof json?.message === 'string' ? maskPhonesInText(json.message) : undefined;
  if (code === undefined && message === undefined) return {};
  return {
    detail: code !== undefined ? `Twilio error ${code}${message ? `: ${message}` : ''}` : message,
    ...(code !== undefined ? { code } : {}),
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

import {
  ErrorCode,
  LogLevel,
  type Logger,
  WebClient,
  type WebAPIHTTPError,
  type WebAPIPlatformError,
  type WebAPIRateLimitedError,
} from '@slack/web-api';
import { classifyHttpStatus, ErrorType, parseRetryAfter } from '../domain/errors';
import { createHttpClient, HttpFailure, type HttpResponse, isHttpFailure } from './http-client';

/** A Block Kit block (built elsewhere; passed through as JSON). */
export interface SlackBlock {
  type: string;
  block_id?: string;
}

type SlackResult = Record<string, unknown>;

/** A failed Slack call. `slackError` is Slack's `error` string when it answered `ok: false`. */
export class SlackApiError extends HttpFailure {
  readonly slackError?: string;

  constructor(init: ConstructorParameters<typeof HttpFailure>[0] & { slackError?: string }) {
    super({ ...init, ...(init.slackError !== undefined ? { code: init.slackError } : {}) });
    if (init.slackError !== undefined) this.slackError = init.slackError;
  }
}

export interface SlackClientOptions {
  /** Bot token (`SLACK_BOT_TOKEN`, `xoxb-…`). */
  token: string;
  /** `SLACK_API_URL`, e.g. the test double's `http://127.0.0.1:4010/api/`. Default `https://slack.com/api/`. */
  slackApiUrl?: string;
  timeoutMs?: number;
  logger?: Logger;
  logLevel?: LogLevel;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/** `metadata.event_type` of the messages incidentflow posts with an idempotency key. */
export const POST_METADATA_EVENT = 'incidentflow_post';

/** Where to look for a message posted earlier with an idempotency key (see {@link SlackClient.findPosted}). */
export interface SlackPostLookup {
  /** Channel id or name (`#data-incidents`); a name is resolved with `conversations.list`. */
  channel: string;
  /** The key the message carries in `metadata.event_payload.key`. */
  key: string;
  /** Only messages at or after this instant (epoch ms): the first attempt's start. */
  sinceMs: number;
  /** Look among the replies of this thread instead of the channel's top level. */
  threadTs?: string;
}

/** Body POSTed to an interaction's `response_url`. */
export interface SlackResponseUrlBody {
  text: string;
  blocks?: readonly SlackBlock[];
  replace_original?: boolean;
  delete_original?: boolean;
  response_type?: 'ephemeral' | 'in_channel';
}

export interface SlackClient {
  /**
   * `chat.postMessage`; `threadTs` replies in a thread. An `idempotencyKey` travels as message metadata
   * (`event_type` {@link POST_METADATA_EVENT}), so that {@link SlackClient.findPosted} can find the message
   * after a lost response.
   */
  postMessage(args: {
    channel: string;
    text: string;
    blocks?: readonly SlackBlock[];
    threadTs?: string;
    idempotencyKey?: string;
  }): Promise<SlackMessageRef>;
  /**
   * The message this app posted with `key` (`conversations.history`, or `conversations.replies` for a
   * thread, with `include_all_metadata`), or undefined when there is none. Needs the `channels:history`
   * (`groups:history` for private channels) scope; a channel name also needs `channels:read`.
   */
  findPosted(lookup: SlackPostLookup): Promise<SlackMessageRef | undefined>;
  /** `chat.update` of a message this bot posted. */
  update(args: {
    channel: string;
    ts: string;
    text: string;
    blocks?: readonly SlackBlock[];
  }): Promise<SlackMessageRef>;
  /** `chat.postEphemeral`: visible to `user` only; cannot be updated later (use `respond`). */
  postEphemeral(args: {
    channel: string;
    user: string;
    text: string;
    blocks?: readonly SlackBlock[];
  }): Promise<{ messageTs: string }>;
  /** Direct message: `conversations.open` then `chat.postMessage` to the DM channel. */
  dm(args: {
    user: string;
    text: string;
    blocks?: readonly SlackBlock[];
    idempotencyKey?: string;
  }): Promise<SlackMessageRef>;
  /** {@link SlackClient.findPosted} in the direct-message conversation with `user` (`im:history`). */
  findDm(lookup: { user: string; key: string; sinceMs: number }): Promise<SlackMessageRef | undefined>;
  /** POSTs JSON to an interaction's `response_url` (no token; the URL is the credential). */
  respond(responseUrl: string, body: SlackResponseUrlBody): Promise<void>;
}

/** Errors Slack answers with `ok: false` that no retry fixes, and the failure type each maps to. */
export const FINAL_SLACK_ERRORS: Readonly<Record<string, ErrorType>> = {
  channel_not_found: ErrorType.NotFound,
  user_not_found: ErrorType.NotFound,
  users_not_found: ErrorType.NotFound,
  message_not_found: ErrorType.NotFound,
  not_in_channel: ErrorType.Rejected,
  is_archived: ErrorType.Rejected,
  invalid_blocks: ErrorType.Rejected,
  msg_too_long: ErrorType.Rejected,
  no_text: ErrorType.Rejected,
  cant_update_message: ErrorType.Rejected,
  invalid_auth: ErrorType.AuthFailed,
  not_authed: ErrorType.AuthFailed,
  account_inactive: ErrorType.AuthFailed,
  token_revoked: ErrorType.AuthFailed,
  token_expired: ErrorType.AuthFailed,
  missing_scope: ErrorType.AuthFailed,
  no_permission: ErrorType.AuthFailed,
};

/** `ok: false` errors that are Slack's own trouble: retry with backoff. */
export const RETRYABLE_SLACK_ERRORS: readonly string[] = [
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
];

/**
 * Thin wrapper over `@slack/web-api`'s WebClient. The WebClient neither retries nor sleeps on 429
 * (`retries: 0`, `rejectRateLimitedCalls: true`): every failure becomes a {@link SlackApiError} and the
 * caller (a Temporal retry policy) decides. Every message carries a fallback `text`.
 */
export function createSlackClient(options: SlackClientOptions): SlackClient {
  const now = options.now ?? Date.now;
  const web = new WebClient(options.token, {
    slackApiUrl: options.slackApiUrl ?? 'https://slack.com/api/',
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 10_000,
    logLevel: options.logLevel ?? LogLevel.ERROR,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const http = createHttpClient({
    provider: 'slack',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    describeError: describeResponseUrlError,
  });

  async function call(method: string, args: Record<string, unknown>): Promise<SlackResult> {
    try {
      return (await web.apiCall(method, withoutUndefined(args))) as unknown as SlackResult;
    } catch (err) {
      throw classifySlackError(method, err, now());
    }
  }

  const postMessage: SlackClient['postMessage'] = async ({
    channel,
    text,
    blocks,
    threadTs,
    idempotencyKey,
  }) => {
    const res = await call('chat.postMessage', {
      channel,
      text,
      blocks,
      thread_ts: threadTs,
      ...(idempotencyKey
        ? { metadata: { event_type: POST_METADATA_EVENT, event_payload: { key: idempotencyKey } } }
        : {}),
    });
    return messageRef(res, channel);
  };

  /** A channel id for a name, through `conversations.list` (bounded: 20 pages of 1,000). */
  async function channelIdOf(channel: string): Promise<string | undefined> {
    if (CHANNEL_ID.test(channel)) return channel;
    const name = channel.replace(/^#/, '');
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await call('conversations.list', {
        types: 'public_channel,private_channel',
        exclude_archived: true,
        limit: 1000,
        cursor,
      });
      const found = (res.channels as Array<{ id?: unknown; name?: unknown }> | undefined)?.find(
        (c) => c.name === name,
      );
      if (typeof found?.id === 'string') return found.id;
      cursor = nextCursor(res);
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /** The id of the direct-message conversation with `user` (`conversations.open` is idempotent). */
  async function openDm(user: string): Promise<string> {
    const opened = await call('conversations.open', { users: user });
    const channel = (opened.channel as { id?: unknown } | undefined)?.id;
    if (typeof channel !== 'string') {
      throw new SlackApiError({
        class: { kind: 'retryable', reason: 'server_error' },
        provider: 'slack',
        message: 'slack conversations.open: response without a channel id',
      });
    }
    return channel;
  }

  async function findPosted(lookup: SlackPostLookup): Promise<SlackMessageRef | undefined> {
    const channel = await channelIdOf(lookup.channel);
    if (!channel) return undefined;
    const method = lookup.threadTs ? 'conversations.replies' : 'conversations.history';
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await call(method, {
        channel,
        ts: lookup.threadTs,
        oldest: (Math.floor(lookup.sinceMs / 1000) - 1).toFixed(6),
        inclusive: true,
        limit: 200,
        include_all_metadata: true,
        cursor,
      });
      const messages = (res.messages as SlackListedMessage[] | undefined) ?? [];
      const hit = messages.find(
        (m) =>
          m.metadata?.event_type === POST_METADATA_EVENT &&
          m.metadata.event_payload?.key === lookup.key &&
          typeof m.ts === 'string',
      );
      if (hit) return { channel, ts: hit.ts! };
      cursor = nextCursor(res);
      if (!cursor) return undefined;
    }
    return undefined;
  }

  return {
    postMessage,
    findPosted,
    async update({ channel, ts, text, blocks }) {
      const res = await call('chat.update', { channel, ts, text, blocks });
      return messageRef(res, channel, ts);
    },
    async postEphemeral({ channel, user, text, blocks }) {
      const res = await call('chat.postEphemeral', { channel, user, text, blocks });
      return { messageTs: typeof res.message_ts === 'string' ? res.message_ts : '' };
    },
    async dm({ user, text, blocks, idempotencyKey }) {
      const channel = await openDm(user);
      return postMessage({
        channel,
        text,
        ...(blocks ? { blocks } : {}),
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });
    },
    async findDm({ user, key, sinceMs }) {
      return findPosted({ channel: await openDm(user), key, sinceMs });
    },
    async respond(responseUrl, body) {
      let res: HttpResponse;
      try {
        res = await http.send({ url: responseUrl, operation: 'response_url', json: body });
      } catch (err) {
        if (!isHttpFailure(err)) throw err;
        throw new SlackApiError({
          class: err.class,
          provider: 'slack',
          message: err.message,
          ...(err.status !== undefined ? { status: err.status } : {}),
          ...(err.code !== undefined ? { slackError: err.code } : {}),
        });
      }
      const json = res.json as { ok?: unknown; error?: unknown } | undefined;
      if (json?.ok === false) {
        const slackError = typeof json.error === 'string' ? json.error : 'unknown_error';
        throw platformFailure('response_url', slackError, undefined, now());
      }
    },
  };
}

/**
 * Maps anything the WebClient throws to a {@link SlackApiError}: rate limits wait for Retry-After,
 * Slack-side and network errors retry, the {@link FINAL_SLACK_ERRORS} (and unknown `ok:false` errors) are
 * final. Messages name the method and Slack's error code only.
 */
export function classifySlackError(method: string, err: unknown, nowMs: number): SlackApiError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === ErrorCode.RateLimitedError) {
    const retryAfter = (err as WebAPIRateLimitedError).retryAfter;
    return new SlackApiError({
      class: { kind: 'rate_limited', retryAfterMs: retryAfter * 1000 },
      provider: 'slack',
      status: 429,
      message: `slack ${method}: rate limited (retry after ${retryAfter} s)`,
    });
  }
  if (code === ErrorCode.PlatformError) {
    const data = (err as WebAPIPlatformError).data;
    const retryAfter = data.response_metadata?.retryAfter;
    return platformFailure(method, data.error, retryAfter, nowMs);
  }
  if (code === ErrorCode.HTTPError) {
    const { statusCode: status, headers } = err as WebAPIHTTPError;
    const cls = classifyHttpStatus(status, headers['retry-after'], nowMs);
    return new SlackApiError({
      class: cls,
      provider: 'slack',
      status,
      message: `slack ${method}: HTTP ${status}`,
    });
  }
  // A 429 without a usable Retry-After makes the WebClient throw a plain Error (p-retry AbortError).
  if (err instanceof Error && /retry header did not contain a valid timeout/i.test(err.message)) {
    return new SlackApiError({
      class: { kind: 'rate_limited', retryAfterMs: parseRetryAfter(undefined, nowMs) },
      provider: 'slack',
      status: 429,
      message: `slack ${method}: rate limited`,
    });
  }
  // Request errors (network, timeout) and anything unexpected: retry.
  return new SlackApiError({
    class: { kind: 'retryable', reason: 'network' },
    provider: 'slack',
    message: `slack ${method}: request failed${code === ErrorCode.RequestError ? ' (network)' : ''}`,
  });
}

function platformFailure(
  method: string,
  slackError: string,
  retryAfterSec: number | undefined,
  nowMs: number,
): SlackApiError {
  const message = `slack ${method}: ${slackError}`;
  if (slackError === 'ratelimited' || slackError === 'rate_limited') {
    const retryAfterMs = parseRetryAfter(retryAfterSec?.toString(), nowMs);
    return new SlackApiError({
      class: { kind: 'rate_limited', retryAfterMs },
      provider: 'slack',
      message,
      slackError,
    });
  }
  if (RETRYABLE_SLACK_ERRORS.includes(slackError)) {
    return new SlackApiError({
      class: { kind: 'retryable', reason: 'server_error' },
      provider: 'slack',
      message,
      slackError,
    });
  }
  const type = FINAL_SLACK_ERRORS[slackError] ?? ErrorType.Rejected;
  const reason =
    type === ErrorType.AuthFailed ? 'auth' : type === ErrorType.NotFound ? 'not_found' : 'client_error';
  return new SlackApiError({
    class: { kind: 'final', type, reason },
    provider: 'slack',
    message,
    slackError,
  });
}

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

interface SlackListedMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

function nextCursor(res: SlackResult): string | undefined {
  const cursor = (res.response_metadata as { next_cursor?: unknown } | undefined)?.next_cursor;
  return typeof cursor === 'string' && cursor !== '' ? cursor : undefined;
}

function messageRef(res: SlackResult, channel: string, ts?: string): SlackMessageRef {
  return {
    channel: typeof res.channel === 'string' ? res.channel : channel,
    ts: typeof res.ts === 'string' ? res.ts : (ts ?? ''),
  };
}

/** A `response_url` answers with a short error string (`expired_url`) or `{ok:false,error}`. */
function describeResponseUrlError(res: HttpResponse): { detail?: string; code?: string } {
  const json = res.json as { error?: unknown } | undefined;
  const error = typeof json?.error === 'string' ? json.error : res.body.trim();
  return /^[a-z_]{1,64}$/.test(error) ? { detail: error, code: error } : {};
}

function withoutUndefined(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  FailureQueue,
  header,
  listen,
  type ListenOptions,
  parseForm,
  parseJson,
  sendJson,
  sendText,
} from './http-server';

/**
 * Slack Web API test double (external-apis.md §4). Speaks like `https://slack.com/api/<method>`:
 * POST form-urlencoded (JSON-stringified `blocks`) or JSON, bearer token, HTTP 200 with `{ok:false,error}`
 * for API errors, HTTP 429 + `Retry-After` when rate limited. Point `WebClient`'s `slackApiUrl` (or
 * `SLACK_API_URL`) at {@link SlackDouble.apiUrl}. Also serves `response_url`s (see {@link SlackDouble.responseUrl}).
 */
export interface SlackDoubleOptions extends ListenOptions {
  /** The only accepted bot token. Default: any token starting with `xox`. */
  token?: string;
  /** Channel name → id (`{ '#data-incidents': 'C0INCIDENTS' }`); other names get a stable generated id. */
  channels?: Record<string, string>;
  /** When true, only channels in `channels` (names or ids) exist; others answer `channel_not_found`. */
  strictChannels?: boolean;
  /** Channels (names or ids) that answer `is_archived` to posts. */
  archived?: string[];
  /** Known user ids; when set, other users answer `user_not_found`. */
  users?: string[];
}

/** A programmed failure: HTTP 429 with Retry-After, another HTTP status, or an `ok:false` error. */
export type SlackFailure = { status: 429; retryAfter?: number } | { status: number } | { error: string };

export interface SlackCall {
  /** Web API method (`chat.postMessage`) or `response_url`. */
  method: string;
  /** Bearer token (or form `token`), if any. */
  token?: string;
  /** Parsed body: form fields, with JSON fields (`blocks`, `attachments`, `view`, `metadata`) parsed. */
  body: Record<string, unknown>;
  contentType?: string;
  status: number;
  response: unknown;
  at: number;
}

export interface SlackStoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  threadTs?: string;
  /** How many times `chat.update` or a `replace_original` response changed it. */
  updates: number;
  deleted: boolean;
  /** Every version, oldest first (the current one last). */
  history: Array<{ text?: string; blocks?: unknown[] }>;
  /** `metadata` given to `chat.postMessage` (`{ event_type, event_payload }`). */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

export interface SlackEphemeral {
  channel: string;
  user: string;
  messageTs: string;
  text?: string;
  blocks?: unknown[];
}

export interface SlackResponsePost {
  id: string;
  body: unknown;
  status: number;
  at: number;
}

export interface SlackDouble {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `<url>/api/`: the `slackApiUrl` / `SLACK_API_URL` to use. */
  apiUrl: string;
  /** Every request, in arrival order (including rejected ones). */
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** JSON posts to response URLs. */
  responses: SlackResponsePost[];
  ephemerals: SlackEphemeral[];
  /** The next `times` calls of `method` (or `*`) fail as described. */
  failNext(method: string, failure: SlackFailure, times?: number): void;
  /**
   * An outage: while set, every Web API call fails as described (e.g. `{ status: 503 }`); `undefined` ends
   * it. Calls during the outage are recorded and change nothing.
   */
  setOutage(failure: SlackFailure | undefined): void;
  /**
   * The next `times` calls of `method` (whose parsed body satisfies `when`, if given) are carried out — a
   * post is stored — but the connection is reset before the response: the caller cannot know it
   * succeeded (a lost response).
   */
  loseResponseOfNext(method: string, times?: number, when?: (body: Record<string, unknown>) => boolean): void;
  /** Channel id the double uses for a name (`#data-incidents`) or id. */
  channelId(nameOrId: string): string;
  /** DM channel id `conversations.open` returns for a user. */
  dmChannelId(user: string): string;
  message(channel: string, ts: string): SlackStoredMessage | undefined;
  /** A person deletes a message in the Slack client: later `chat.update` calls answer `message_not_found`. */
  deleteMessage(channel: string, ts: string): void;
  /** Messages of a channel (name or id), oldest first, deleted ones excluded. */
  messages(channel: string): SlackStoredMessage[];
  latest(channel: string): SlackStoredMessage | undefined;
  /**
   * A new response URL. Linked to a message, `replace_original`/`delete_original` posts edit it; usable 5
   * times, like Slack's.
   */
  responseUrl(message?: { channel: string; ts: string }): string;
  reset(): void;
  close(): Promise<void>;
}

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];
const BOT = { user: 'U0BOT', bot_id: 'B0BOT', app_id: 'A0DOUBLE', team: 'T0DOUBLE' };
const MAX_TEXT = 40_000;
const MAX_BLOCKS = 50;
const RESPONSE_URL_USES = 5;

class SlackApiError extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

export async function startSlackDouble(options: SlackDoubleOptions = {}): Promise<SlackDouble> {
  const calls: SlackCall[] = [];
  const responses: SlackResponsePost[] = [];
  const ephemerals: SlackEphemeral[] = [];
  const failures = new FailureQueue<SlackFailure>();
  const lostResponses: Array<{
    method: string;
    left: number;
    when?: (body: Record<string, unknown>) => boolean;
  }> = [];
  let outage: SlackFailure | undefined;
  const store = new Map<string, SlackStoredMessage>();
  const openedDms = new Set<string>();
  const responseUrls = new Map<string, { uses: number; message?: { channel: string; ts: string } }>();
  let lastTsMicros = 0;

  const channelMap = new Map<string, string>();
  for (const [name, id] of Object.entries(options.channels ?? {})) channelMap.set(stripHash(name), id);
  const knownIds = new Set(channelMap.values());
  /** Channels first named in a call (not in `options.channels`): they exist unless `strictChannels`. */
  const namedChannels = new Map<string, string>();
  const archived = new Set((options.archived ?? []).map((c) => channelId(c)));
  const users = options.users ? new Set(options.users) : undefined;

  function channelId(nameOrId: string): string {
    const name = stripHash(nameOrId);
    const mapped = channelMap.get(name);
    if (mapped) return mapped;
    if (/^[CGD][A-Z0-9]{2,}$/.test(name)) return name;
    if (/^[UW][A-Z0-9]{2,}$/.test(name)) return dmChannelId(name);
    const id = `C${hashId(name)}`;
    namedChannels.set(name, id);
    return id;
  }

  function dmChannelId(user: string): string {
    return `D${hashId(user)}`;
  }

  function channelExists(id: string): boolean {
    if (!options.strictChannels) return true;
    return knownIds.has(id) || id.startsWith('D');
  }

  function nextTs(): string {
    // Like Slack: the posting time in seconds with microseconds, unique and increasing per workspace.
    lastTsMicros = Math.max(Date.now() * 1000, lastTsMicros + 1);
    return `${Math.floor(lastTsMicros / 1e6)}.${String(lastTsMicros % 1e6).padStart(6, '0')}`;
  }

  const key = (channel: string, ts: string) => `${channel}:${ts}`;

  function requireChannel(body: Record<string, unknown>): string {
    const raw = body.channel;
    if (typeof raw !== 'string' || raw === '') throw new SlackApiError('channel_not_found');
    const id = channelId(raw);
    if (!channelExists(id)) throw new SlackApiError('channel_not_found');
    return id;
  }

  function content(body: Record<string, unknown>): { text?: string; blocks?: unknown[] } {
    const text = typeof body.text === 'string' && body.text !== '' ? body.text : undefined;
    let blocks: unknown[] | undefined;
    if (body.blocks !== undefined && body.blocks !== '') {
      if (!Array.isArray(body.blocks) || body.blocks.length > MAX_BLOCKS)
        throw new SlackApiError('invalid_blocks');
      if (
        !body.blocks.every(
          (b) => typeof b === 'object' && b !== null && typeof (b as { type?: unknown }).type === 'string',
        )
      ) {
        throw new SlackApiError('invalid_blocks');
      }
      blocks = body.blocks.length ? body.blocks : undefined;
    }
    if (text === undefined && blocks === undefined) throw new SlackApiError('no_text');
    if (text !== undefined && text.length > MAX_TEXT) throw new SlackApiError('msg_too_long');
    return { ...(text !== undefined ? { text } : {}), ...(blocks !== undefined ? { blocks } : {}) };
  }

  /** History methods take a channel id only (a `#name` is `channel_not_found`). */
  function requireChannelId(body: Record<string, unknown>): string {
    const raw = body.channel;
    if (typeof raw !== 'string' || !/^[CGD][A-Z0-9]{2,}$/.test(raw))
      throw new SlackApiError('channel_not_found');
    if (!channelExists(raw)) throw new SlackApiError('channel_not_found');
    return raw;
  }

  function requireUser(value: unknown): string {
    if (typeof value !== 'string' || value === '') throw new SlackApiError('user_not_found');
    if (users && !users.has(value)) throw new SlackApiError('user_not_found');
    return value;
  }

  function botMessage(msg: SlackStoredMessage, withMetadata = false) {
    return {
      type: 'message',
      ...BOT,
      ts: msg.ts,
      ...(msg.text !== undefined ? { text: msg.text } : { text: '' }),
      ...(msg.blocks ? { blocks: msg.blocks } : {}),
      ...(msg.threadTs ? { thread_ts: msg.threadTs } : {}),
      ...(withMetadata && msg.metadata ? { metadata: msg.metadata } : {}),
    };
  }

  function metadataOf(body: Record<string, unknown>): SlackStoredMessage['metadata'] {
    const m = body.metadata as { event_type?: unknown; event_payload?: unknown } | undefined;
    if (m === undefined || m === null || (m as unknown) === '') return undefined;
    if (typeof m.event_type !== 'string' || typeof m.event_payload !== 'object' || m.event_payload === null)
      throw new SlackApiError('invalid_metadata_format');
    return { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> };
  }

  /** Slack's history paging: `oldest`/`latest` bounds, `inclusive`, `limit`, opaque `cursor`. */
  function page(list: SlackStoredMessage[], body: Record<string, unknown>, withMetadata: boolean) {
    const oldest = Number(body.oldest ?? 0);
    const latest = body.latest !== undefined ? Number(body.latest) : Number.POSITIVE_INFINITY;
    const inclusive = body.inclusive === true || body.inclusive === 'true' || body.inclusive === '1';
    const inRange = list.filter((m) => {
      const ts = Number(m.ts);
      return inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest;
    });
    const limit = Math.min(Math.max(Number(body.limit ?? 100) || 100, 1), 999);
    const offset = typeof body.cursor === 'string' && body.cursor !== '' ? decodeCursor(body.cursor) : 0;
    const slice = inRange.slice(offset, offset + limit);
    const more = offset + limit < inRange.length;
    return {
      messages: slice.map((m) => botMessage(m, withMetadata)),
      has_more: more,
      response_metadata: { next_cursor: more ? encodeCursor(offset + limit) : '' },
    };
  }

  function post(
    channel: string,
    c: { text?: string; blocks?: unknown[] },
    threadTs?: string,
    metadata?: SlackStoredMessage['metadata'],
  ) {
    const msg: SlackStoredMessage = {
      channel,
      ts: nextTs(),
      ...c,
      ...(threadTs ? { threadTs } : {}),
      ...(metadata ? { metadata } : {}),
      updates: 0,
      deleted: false,
      history: [c],
    };
    store.set(key(channel, msg.ts), msg);
    return msg;
  }

  function edit(msg: SlackStoredMessage, c: { text?: string; blocks?: unknown[] }): void {
    msg.text = c.text;
    msg.blocks = c.blocks;
    if (msg.text === undefined) delete msg.text;
    if (msg.blocks === undefined) delete msg.blocks;
    msg.updates += 1;
    msg.history.push(c);
  }

  const methods: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    'auth.test': () => ({
      url: 'https://incidentflow-double.slack.com/',
      team: 'Incidentflow Double',
      user: 'incidentflow',
      team_id: BOT.team,
      user_id: BOT.user,
      bot_id: BOT.bot_id,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (body) => {
      const channel = requireChannel(body);
      const c = content(body);
      if (archived.has(channel)) throw new SlackApiError('is_archived');
      const threadTs =
        typeof body.thread_ts === 'string' && body.thread_ts !== '' ? body.thread_ts : undefined;
      const msg = post(channel, c, threadTs, metadataOf(body));
      return { channel, ts: msg.ts, message: botMessage(msg) };
    },
    // Like Slack: the channel must be an id; newest first; thread replies are not in the history.
    'conversations.history': (body) => {
      const channel = requireChannelId(body);
      const top = [...store.values()]
        .filter((m) => m.channel === channel && !m.deleted && m.threadTs === undefined)
        .sort((a, b) => Number(b.ts) - Number(a.ts));
      return page(top, body, body.include_all_metadata === true || body.include_all_metadata === 'true');
    },
    // The parent first, then its replies oldest first.
    'conversations.replies': (body) => {
      const channel = requireChannelId(body);
      const ts = typeof body.ts === 'string' ? body.ts : '';
      const parent = store.get(key(channel, ts));
      if (!parent || parent.deleted) throw new SlackApiError('thread_not_found');
      const replies = [...store.values()]
        .filter((m) => m.channel === channel && !m.deleted && m.threadTs === ts)
        .sort((a, b) => Number(a.ts) - Number(b.ts));
      return page(
        [parent, ...replies],
        body,
        body.include_all_metadata === true || body.include_all_metadata === 'true',
      );
    },
    'conversations.list': () => ({
      channels: [...channelMap.entries(), ...namedChannels.entries()].map(([name, id]) => ({
        id,
        name,
        is_channel: true,
        is_archived: archived.has(id),
      })),
      response_metadata: { next_cursor: '' },
    }),
    'chat.update': (body) => {
      const channel = requireChannel(body);
      const ts = typeof body.ts === 'string' ? body.ts : '';
      const msg = store.get(key(channel, ts));
      if (!msg || msg.deleted) throw new SlackApiError('message_not_found');
      const c = content(body);
      if (archived.has(channel)) throw new SlackApiError('is_archived');
      // Like attachments, blocks not sent are kept; an empty array removes them.
      edit(msg, body.blocks === undefined && msg.blocks ? { ...c, blocks: msg.blocks } : c);
      return { channel, ts, text: msg.text ?? '', message: botMessage(msg) };
    },
    'chat.postEphemeral': (body) => {
      const channel = requireChannel(body);
      const user = requireUser(body.user);
      const c = content(body);
      if (archived.has(channel)) throw new SlackApiError('is_archived');
      const messageTs = nextTs();
      ephemerals.push({ channel, user, messageTs, ...c });
      return { message_ts: messageTs };
    },
    'conversations.open': (body) => {
      if (typeof body.channel === 'string' && body.channel !== '') {
        return { no_op: true, already_open: true, channel: { id: channelId(body.channel) } };
      }
      const list = typeof body.users === 'string' ? body.users.split(',').filter((u) => u !== '') : [];
      if (list.length === 0) throw new SlackApiError('users_list_not_supplied');
      list.forEach(requireUser);
      const id = list.length === 1 ? dmChannelId(list[0]!) : `G${hashId(list.sort().join(','))}`;
      const already = openedDms.has(id);
      openedDms.add(id);
      return { no_op: already, already_open: already, channel: { id } };
    },
    'views.open': (body) => {
      if (typeof body.trigger_id !== 'string' || body.trigger_id === '') {
        throw new SlackApiError('invalid_trigger_id');
      }
      if (typeof body.view !== 'object' || body.view === null) throw new SlackApiError('invalid_arguments');
      return { view: { id: `V${hashId(randomUUID())}`, ...body.view } };
    },
  };

  function record(call: Omit<SlackCall, 'at'>): void {
    calls.push({ ...call, at: Date.now() });
  }

  function failWith(
    res: ServerResponse,
    method: string,
    failure: SlackFailure,
    base: Omit<SlackCall, 'at' | 'status' | 'response'>,
  ) {
    if ('error' in failure) {
      const response = { ok: false, error: failure.error };
      record({ ...base, status: 200, response });
      sendJson(res, method === 'response_url' ? 404 : 200, response);
      return;
    }
    if (failure.status === 429) {
      const retryAfter = String((failure as { retryAfter?: number }).retryAfter ?? 1);
      const response = { ok: false, error: 'ratelimited' };
      record({ ...base, status: 429, response });
      sendJson(res, 429, response, { 'retry-after': retryAfter });
      return;
    }
    record({ ...base, status: failure.status, response: 'error' });
    sendText(res, failure.status, failure.status >= 500 ? 'internal_error' : 'error');
  }

  function handleApi(method: string, req: IncomingMessage, raw: string, res: ServerResponse): void {
    const contentType = header(req, 'content-type');
    const body = parseBody(raw, contentType);
    const bearer = /^Bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    const token = bearer ?? (typeof body.token === 'string' ? body.token : undefined);
    const base = { method, body, ...(token ? { token } : {}), ...(contentType ? { contentType } : {}) };

    const failure = outage ?? failures.take(method);
    if (failure) return failWith(res, method, failure, base);
    const lost = lostResponses.find((l) => l.method === method && l.left > 0 && (l.when?.(body) ?? true));
    if (lost) lost.left -= 1;
    const loseResponse = lost !== undefined;

    let response: Record<string, unknown>;
    try {
      if (!token) throw new SlackApiError('not_authed');
      if (options.token ? token !== options.token : !token.startsWith('xox'))
        throw new SlackApiError('invalid_auth');
      const impl = methods[method];
      if (!impl) throw new SlackApiError('unknown_method');
      response = { ok: true, ...impl(body) };
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      response = { ok: false, error: err.error };
    }
    record({ ...base, status: loseResponse ? 0 : 200, response });
    if (loseResponse) {
      res.socket?.destroy();
      return;
    }
    sendJson(res, 200, response);
  }

  function handleResponseUrl(id: string, raw: string, res: ServerResponse): void {
    const parsed = parseJson(raw);
    const body = parsed.ok ? parsed.value : raw;
    const base = { method: 'response_url', body: { id, payload: body } };
    const reply = (status: number, response: Record<string, unknown>) => {
      responses.push({ id, body, status, at: Date.now() });
      record({ ...base, status, response });
      sendJson(res, status, response);
    };
    const failure = failures.take('response_url');
    if (failure) {
      responses.push({ id, body, status: 'status' in failure ? failure.status : 404, at: Date.now() });
      return failWith(res, 'response_url', failure, base);
    }
    const entry = responseUrls.get(id);
    if (!entry) return reply(404, { ok: false, error: 'expired_url' });
    if (entry.uses >= RESPONSE_URL_USES) return reply(404, { ok: false, error: 'used_url' });
    if (!parsed.ok || typeof body !== 'object' || body === null) {
      return reply(400, { ok: false, error: 'invalid_payload' });
    }
    entry.uses += 1;
    const payload = body as Record<string, unknown>;
    const target = entry.message ? store.get(key(entry.message.channel, entry.message.ts)) : undefined;
    try {
      if (payload.delete_original === true) {
        if (target) target.deleted = true;
      } else {
        const c = content(payload);
        if (payload.replace_original === true && target) edit(target, c);
        else if (payload.response_type === 'in_channel' && entry.message) post(entry.message.channel, c);
      }
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      return reply(400, { ok: false, error: err.error });
    }
    reply(200, { ok: true });
  }

  const server = await listen((req, raw, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    if (api && req.method === 'POST') return handleApi(api[1]!, req, raw, res);
    const respond = /^\/response\/([A-Za-z0-9-]+)$/.exec(url.pathname);
    if (respond && req.method === 'POST') return handleResponseUrl(respond[1]!, raw, res);
    if (req.method === 'GET' && url.pathname === '/_double/calls') return sendJson(res, 200, calls);
    if (req.method === 'GET' && url.pathname === '/_double/messages')
      return sendJson(res, 200, [...store.values()]);
    sendText(res, 404, 'not found');
  }, options);

  const messagesOf = (channel: string): SlackStoredMessage[] => {
    const id = channelId(channel);
    return [...store.values()].filter((m) => m.channel === id && !m.deleted);
  };

  return {
    url: server.url,
    apiUrl: `${server.url}/api/`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    responses,
    ephemerals,
    failNext: (method, failure, times = 1) => failures.add(method, failure, times),
    setOutage(failure) {
      outage = failure;
    },
    loseResponseOfNext: (method, times = 1, when) =>
      lostResponses.push({ method, left: times, ...(when ? { when } : {}) }),
    channelId,
    dmChannelId,
    message: (channel, ts) => store.get(key(channelId(channel), ts)),
    deleteMessage(channel, ts) {
      const msg = store.get(key(channelId(channel), ts));
      if (!msg) throw new Error(`no message ${ts} in ${channel}`);
      msg.deleted = true;
    },
    messages: messagesOf,
    latest: (channel) => messagesOf(channel).at(-1),
    responseUrl(message) {
      const id = randomUUID();
      responseUrls.set(id, {
        uses: 0,
        ...(message ? { message: { channel: channelId(message.channel), ts: message.ts } } : {}),
      });
      return `${server.url}/response/${id}`;
    },
    reset() {
      calls.length = 0;
      responses.length = 0;
      ephemerals.length = 0;
      store.clear();
      openedDms.clear();
      responseUrls.clear();
      failures.clear();
      lostResponses.length = 0;
      outage = undefined;
    },
    close: () => server.close(),
  };
}

/** Form (WebClient default) or JSON body; JSON-string form fields such as `blocks` are parsed. */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/json')) {
    const parsed = parseJson(raw);
    return parsed.ok && typeof parsed.value === 'object' && parsed.value !== null
      ? (parsed.value as Record<string, unknown>)
      : {};
  }
  const form: Record<string, unknown> = parseForm(raw);
  for (const field of JSON_FIELDS) {
    const value = form[field];
    if (typeof value !== 'string') continue;
    const parsed = parseJson(value);
    if (parsed.ok) form[field] = parsed.value;
  }
  return form;
}

function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64');
}

function decodeCursor(cursor: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!match) throw new SlackApiError('invalid_cursor');
  return Number(match[1]);
}

function stripHash(name: string): string {
  return name.startsWith('#') ? name.slice(1) : name;
}

function hashId(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 10).toUpperCase();
}

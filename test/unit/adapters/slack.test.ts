import {
  createSlackClient,
  FINAL_SLACK_ERRORS,
  SlackApiError,
  type SlackBlock,
} from '../../../src/adapters/slack';
import { ErrorType } from '../../../src/domain/errors';
import { type SlackDouble, startSlackDouble } from '../../doubles/slack-double';

const TOKEN = 'xoxb-test-0123456789';

let slack: SlackDouble;
beforeAll(async () => {
  slack = await startSlackDouble({ token: TOKEN, channels: { '#data-incidents': 'C0INCIDENTS' } });
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

const client = (token = TOKEN) => createSlackClient({ token, slackApiUrl: slack.apiUrl, timeoutMs: 5_000 });

const blocks: SlackBlock[] = [
  { type: 'section', text: { type: 'mrkdwn', text: '*etl* failed at task `load`' } } as SlackBlock,
];

async function failureOf(promise: Promise<unknown>): Promise<SlackApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SlackApiError) return err;
    throw err;
  }
  throw new Error('expected a SlackApiError');
}

describe('createSlackClient', () => {
  it('posts a form-encoded chat.postMessage with the bearer token and JSON-string blocks', async () => {
    const ref = await client().postMessage({ channel: '#data-incidents', text: 'DAG etl failed', blocks });

    const call = slack.callsTo('chat.postMessage')[0]!;
    expect(call.token).toBe(TOKEN);
    expect(call.contentType).toBe('application/x-www-form-urlencoded');
    expect(call.body).toEqual({ channel: '#data-incidents', text: 'DAG etl failed', blocks });
    expect(ref.channel).toBe('C0INCIDENTS');
    expect(ref.ts).toMatch(/^\d+\.\d{6}$/);
    expect(slack.latest('#data-incidents')).toMatchObject({ text: 'DAG etl failed', blocks });
  });

  it('replies in a thread with thread_ts', async () => {
    const parent = await client().postMessage({ channel: 'C0INCIDENTS', text: 'parent' });
    await client().postMessage({ channel: 'C0INCIDENTS', text: 'reply', threadTs: parent.ts });
    expect(slack.callsTo('chat.postMessage')[1]!.body.thread_ts).toBe(parent.ts);
    expect(slack.latest('C0INCIDENTS')!.threadTs).toBe(parent.ts);
  });

  it('edits a message with chat.update', async () => {
    const ref = await client().postMessage({ channel: '#data-incidents', text: 'v1' });
    const updated = await client().update({ ...ref, text: 'v2', blocks });

    expect(updated).toEqual(ref);
    expect(slack.message(ref.channel, ref.ts)).toMatchObject({ text: 'v2', blocks, updates: 1 });
  });

  it('keeps the blocks when an update sends text only, in the double', async () => {
    const ref = await client().postMessage({ channel: '#data-incidents', text: 'v1', blocks });
    await client().update({ ...ref, text: 'v2' });
    expect(slack.message(ref.channel, ref.ts)).toMatchObject({ text: 'v2', blocks });
  });

  it('posts an ephemeral message and returns its message_ts', async () => {
    const { messageTs } = await client().postEphemeral({
      channel: '#data-incidents',
      user: 'U1',
      text: 'only you',
    });
    expect(slack.ephemerals).toEqual([{ channel: 'C0INCIDENTS', user: 'U1', messageTs, text: 'only you' }]);
  });

  it('sends a direct message by opening the conversation first', async () => {
    const ref = await client().dm({ user: 'U0ALICE', text: 'You are paged' });

    expect(slack.calls.map((c) => c.method)).toEqual(['conversations.open', 'chat.postMessage']);
    expect(slack.calls[0]!.body).toEqual({ users: 'U0ALICE' });
    expect(ref.channel).toBe(slack.dmChannelId('U0ALICE'));
    expect(slack.latest(ref.channel)!.text).toBe('You are paged');
  });

  it('posts JSON to a response_url and replaces the original message', async () => {
    const ref = await client().postMessage({ channel: '#data-incidents', text: 'Approve rollback?' });
    const url = slack.responseUrl(ref);
    await client().respond(url, { text: 'Approved by jo', replace_original: true });

    expect(slack.responses[0]!.body).toEqual({ text: 'Approved by jo', replace_original: true });
    expect(slack.message(ref.channel, ref.ts)!.text).toBe('Approved by jo');
  });

  it('reports an unknown response_url as final with its Slack error', async () => {
    const failure = await failureOf(client().respond(`${slack.url}/response/gone`, { text: 'late' }));
    expect(failure.class).toEqual({ kind: 'final', type: ErrorType.NotFound, reason: 'not_found' });
    expect(failure.slackError).toBe('expired_url');
    expect(failure.message).toBe('slack response_url: HTTP 404: expired_url');
  });

  it('turns a 429 into a rate-limited failure with the Retry-After delay', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const failure = await failureOf(client().postMessage({ channel: '#data-incidents', text: 'x' }));

    expect(failure.class).toEqual({ kind: 'rate_limited', retryAfterMs: 1000 });
    expect(failure.status).toBe(429);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it.each(Object.entries(FINAL_SLACK_ERRORS))('treats %s as final (%s)', async (error, type) => {
    slack.failNext('chat.postMessage', { error });
    const failure = await failureOf(client().postMessage({ channel: '#data-incidents', text: 'x' }));

    expect(failure.class).toMatchObject({ kind: 'final', type });
    expect(failure.slackError).toBe(error);
    expect(failure.message).toBe(`slack chat.postMessage: ${error}`);
  });

  it.each(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'])(
    'treats %s as retryable',
    async (error) => {
      slack.failNext('chat.update', { error });
      const failure = await failureOf(client().update({ channel: 'C0INCIDENTS', ts: '1.000100', text: 'x' }));
      expect(failure.class).toEqual({ kind: 'retryable', reason: 'server_error' });
      expect(failure.slackError).toBe(error);
    },
  );

  it('treats an ok:false ratelimited answer as rate limited', async () => {
    slack.failNext('chat.postMessage', { error: 'ratelimited' });
    const failure = await failureOf(client().postMessage({ channel: '#data-incidents', text: 'x' }));
    expect(failure.class).toEqual({ kind: 'rate_limited', retryAfterMs: 30_000 });
  });

  it('treats an HTTP 500 as retryable', async () => {
    slack.failNext('chat.postMessage', { status: 500 });
    const failure = await failureOf(client().postMessage({ channel: '#data-incidents', text: 'x' }));
    expect(failure.class).toEqual({ kind: 'retryable', reason: 'server_error' });
    expect(failure.status).toBe(500);
  });

  it('classifies a non-200 HTTP status by its code', async () => {
    slack.failNext('chat.postMessage', { status: 403 });
    const failure = await failureOf(client().postMessage({ channel: '#data-incidents', text: 'x' }));
    expect(failure.class).toEqual({ kind: 'final', type: ErrorType.AuthFailed, reason: 'auth' });
    expect(failure.message).toBe('slack chat.postMessage: HTTP 403');
  });

  it('treats an unreachable API as a retryable network failure', async () => {
    const gone = await startSlackDouble();
    await gone.close();
    const offline = createSlackClient({ token: TOKEN, slackApiUrl: gone.apiUrl });
    const failure = await failureOf(offline.postMessage({ channel: '#x', text: 'x' }));
    expect(failure.class).toEqual({ kind: 'retryable', reason: 'network' });
  });

  it('reports a wrong token as invalid_auth without the token in the message', async () => {
    const failure = await failureOf(
      client('xoxb-wrong-secret').postMessage({ channel: '#data-incidents', text: 'x' }),
    );
    expect(failure.class).toMatchObject({ kind: 'final', type: ErrorType.AuthFailed });
    expect(failure.slackError).toBe('invalid_auth');
    expect(failure.message).not.toContain('xoxb-wrong-secret');
  });

  it('reports channel_not_found for a message without a channel', async () => {
    const failure = await failureOf(client().postMessage({ channel: '', text: 'x' }));
    expect(failure.slackError).toBe('channel_not_found');
    expect(failure.class).toMatchObject({ kind: 'final', type: ErrorType.NotFound });
  });
});

describe('idempotent posts (message metadata)', () => {
  it('sends the key as message metadata and finds the message in the channel history', async () => {
    const ref = await client().postMessage({
      channel: '#data-incidents',
      text: 'root',
      idempotencyKey: 'inc-1/root/0',
    });
    expect(slack.callsTo('chat.postMessage')[0]!.body.metadata).toEqual({
      event_type: 'incidentflow_post',
      event_payload: { key: 'inc-1/root/0' },
    });
    await client().postMessage({ channel: '#data-incidents', text: 'other', idempotencyKey: 'inc-2/root/0' });
    const found = await client().findPosted({ channel: '#data-incidents', key: 'inc-1/root/0', sinceMs: 0 });
    expect(found).toEqual(ref);
    // The name was resolved to the id first: history takes channel ids only.
    expect(slack.callsTo('conversations.list')).toHaveLength(1);
    expect(slack.callsTo('conversations.history')[0]!.body).toMatchObject({
      channel: 'C0INCIDENTS',
      include_all_metadata: 'true',
    });
  });

  it('finds a thread reply by key, and nothing for an unknown key or a message older than the window', async () => {
    const root = await client().postMessage({ channel: 'C0INCIDENTS', text: 'root' });
    const reply = await client().postMessage({
      channel: 'C0INCIDENTS',
      text: 'lines',
      threadTs: root.ts,
      idempotencyKey: 'inc-1/thread/7',
    });
    const lookup = { channel: 'C0INCIDENTS', threadTs: root.ts, sinceMs: 0 };
    expect(await client().findPosted({ ...lookup, key: 'inc-1/thread/7' })).toEqual(reply);
    expect(await client().findPosted({ ...lookup, key: 'inc-1/thread/8' })).toBeUndefined();
    const later = Date.now() + 60_000;
    expect(await client().findPosted({ ...lookup, key: 'inc-1/thread/7', sinceMs: later })).toBeUndefined();
  });

  it('follows the history cursor across pages', async () => {
    const first = await client().postMessage({
      channel: 'C0INCIDENTS',
      text: 'old',
      idempotencyKey: 'k-old',
    });
    for (let i = 0; i < 205; i++) await client().postMessage({ channel: 'C0INCIDENTS', text: `m${i}` });
    expect(await client().findPosted({ channel: 'C0INCIDENTS', key: 'k-old', sinceMs: 0 })).toEqual(first);
    expect(slack.callsTo('conversations.history')).toHaveLength(2);
  });
});

describe('Slack double', () => {
  async function rawCall(method: string, form: Record<string, string>, token?: string) {
    const res = await fetch(`${slack.apiUrl}${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('answers not_authed to a call without a token', async () => {
    expect(await rawCall('chat.postMessage', { channel: 'C1', text: 'x' })).toEqual({
      status: 200,
      body: { ok: false, error: 'not_authed' },
    });
  });

  it('answers no_text to a message with neither text nor blocks', async () => {
    expect((await rawCall('chat.postMessage', { channel: 'C1' }, TOKEN)).body).toEqual({
      ok: false,
      error: 'no_text',
    });
  });

  it('answers invalid_blocks to blocks that are not a JSON array of blocks', async () => {
    expect(
      (await rawCall('chat.postMessage', { channel: 'C1', text: 'x', blocks: '{oops' }, TOKEN)).body,
    ).toEqual({
      ok: false,
      error: 'invalid_blocks',
    });
  });

  it('answers message_not_found to chat.update of an unknown ts', async () => {
    expect((await rawCall('chat.update', { channel: 'C1', ts: '1.000100', text: 'x' }, TOKEN)).body).toEqual({
      ok: false,
      error: 'message_not_found',
    });
  });

  it('answers a programmed 429 with a Retry-After header', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: 'channel=C1&text=x',
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('gives every message a unique ts', async () => {
    const first = await rawCall('chat.postMessage', { channel: 'C1', text: 'a' }, TOKEN);
    const second = await rawCall('chat.postMessage', { channel: 'C1', text: 'b' }, TOKEN);
    expect(first.body.ts).not.toBe(second.body.ts);
  });
});

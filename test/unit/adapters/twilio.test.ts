import { HttpFailure } from '../../../src/adapters/http-client';
import { createTwilioClient, TWILIO_MAX_SMS_BODY } from '../../../src/adapters/twilio';
import { ErrorType } from '../../../src/domain/errors';
import { startTwilioDouble, type TwilioDouble } from '../../doubles/twilio-double';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const FROM = '+15005550006';

let twilio: TwilioDouble;
beforeAll(async () => {
  twilio = await startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
});
afterAll(() => twilio.close());
beforeEach(() => twilio.reset());

const client = () =>
  createTwilioClient({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: twilio.url });

async function failureOf(promise: Promise<unknown>): Promise<HttpFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpFailure) return err;
    throw err;
  }
  throw new Error('expected an HttpFailure');
}

function expectNoSecrets(text: string): void {
  expect(text).not.toContain(AUTH_TOKEN);
  expect(text).not.toContain(ACCOUNT_SID);
}

describe('createTwilioClient', () => {
  it('posts To, From and Body form-encoded to Messages.json with Basic auth', async () => {
    const result = await client().sendSms({ to: '+821012345678', body: 'DAG etl failed' });

    const req = twilio.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(req.contentType).toBe('application/x-www-form-urlencoded');
    expect(req.auth).toEqual({ username: ACCOUNT_SID, password: AUTH_TOKEN });
    expect(req.form).toEqual({ To: '+821012345678', From: FROM, Body: 'DAG etl failed' });
    expect(result).toEqual({ sid: twilio.messages[0]!.sid, status: 'queued' });
    expect(result.sid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('posts To, From and Twiml to Calls.json', async () => {
    const twiml = '<Response><Say>DAG etl failed</Say></Response>';
    const result = await client().call({ to: '+14155550100', twiml });

    expect(twilio.requests[0]!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`);
    expect(twilio.requests[0]!.form).toEqual({ To: '+14155550100', From: FROM, Twiml: twiml });
    expect(result.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(result.status).toBe('queued');
  });

  it('truncates an SMS body to 1600 characters', async () => {
    await client().sendSms({ to: '+821012345678', body: 'x'.repeat(2000) });
    expect(twilio.messages[0]!.body).toHaveLength(TWILIO_MAX_SMS_BODY);
  });

  it('surfaces Twilio error 21211 as a final failure with the number masked', async () => {
    twilio.failNext('Messages', { status: 400, code: 21211 });
    const failure = await failureOf(client().sendSms({ to: '+821012345678', body: 'hi' }));

    expect(failure.class).toEqual({ kind: 'final', type: ErrorType.Rejected, reason: 'client_error' });
    expect(failure.status).toBe(400);
    expect(failure.code).toBe('21211');
    expect(failure.message).toBe(
      "twilio Messages.create: HTTP 400: Twilio error 21211: The 'To' number +82******5678 is not a valid phone number.",
    );
  });

  it('is answered 21211 by the double for a number that is not E.164', async () => {
    const failure = await failureOf(client().sendSms({ to: '010-1234', body: 'hi' }));
    expect(failure.code).toBe('21211');
    expect(twilio.messages).toHaveLength(0);
  });

  it('reports bad credentials as an auth failure without the token or account sid', async () => {
    const bad = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: 'wrong-token-value',
      from: FROM,
      baseUrl: twilio.url,
    });
    const failure = await failureOf(bad.sendSms({ to: '+821012345678', body: 'hi' }));

    expect(failure.class).toEqual({ kind: 'final', type: ErrorType.AuthFailed, reason: 'auth' });
    expect(failure.code).toBe('20003');
    expect(failure.message).toBe('twilio Messages.create: HTTP 401: Twilio error 20003: Authenticate');
    expectNoSecrets(failure.message);
    expect(failure.message).not.toContain('wrong-token-value');
    expect(twilio.messages).toHaveLength(0);
  });

  it('classifies 429 with Retry-After as rate limited', async () => {
    twilio.failNext('Messages', { status: 429, retryAfter: 3 });
    const failure = await failureOf(client().sendSms({ to: '+821012345678', body: 'hi' }));
    expect(failure.class).toEqual({ kind: 'rate_limited', retryAfterMs: 3000 });
    expect(failure.code).toBe('20429');
  });

  it('classifies 503 as retryable', async () => {
    twilio.failNext('Calls', { status: 503 });
    const failure = await failureOf(client().call({ to: '+821012345678', twiml: '<Response/>' }));
    expect(failure.class).toEqual({ kind: 'retryable', reason: 'server_error' });
    expectNoSecrets(JSON.stringify({ ...failure, message: failure.message }));
  });

  it('answers like Twilio when the body is missing', async () => {
    const res = await fetch(`${twilio.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: '+821012345678', From: FROM }).toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 21602,
      message: 'Message body is required.',
      more_info: 'https://www.twilio.com/docs/errors/21602',
      status: 400,
    });
  });
});

describe('looking up what Twilio already has', () => {
  const ALICE = '+821012345678';
  const auth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;
  const list = async (query: string) => {
    const res = await fetch(`${twilio.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?${query}`, {
      headers: { authorization: auth },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('finds the SMS to a number whose body carries the marker, walking pages newest first', async () => {
    const since = Date.now() - 1000;
    const wanted = await client().sendSms({ to: ALICE, body: 'page one [ref aaaaaaaaaa]' });
    for (let i = 0; i < 60; i++) twilio.seedMessage({ to: ALICE, from: FROM, body: `noise ${i}` });

    const found = await client().findMessage({ to: ALICE, since, marker: '[ref aaaaaaaaaa]' });
    expect(found).toMatchObject({ sid: wanted.sid, status: 'sent' });
    const gets = twilio.requests.filter((r) => r.method === 'GET');
    // 61 messages at 50 a page: the marked one, the oldest, is on the second page.
    expect(gets).toHaveLength(2);
    expect(gets.map((g) => g.resource)).toEqual(['Messages', 'Messages']);
  });

  it('finds nothing for another marker, another number, or a message older than since', async () => {
    twilio.seedMessage({
      to: ALICE,
      from: FROM,
      body: 'old [ref bbbbbbbbbb]',
      createdAt: Date.now() - 3_600_000,
    });
    await client().sendSms({ to: '+14155550100', body: 'bob [ref bbbbbbbbbb]' });
    await client().sendSms({ to: ALICE, body: 'other [ref cccccccccc]' });
    const since = Date.now() - 60_000;
    expect(await client().findMessage({ to: ALICE, since, marker: '[ref bbbbbbbbbb]' })).toBeUndefined();
  });

  it('finds a call to the number created since the given time, still queued', async () => {
    const since = Date.now() - 1000;
    const call = await client().call({ to: ALICE, twiml: '<Response/>' });
    expect(await client().findCall({ to: ALICE, since })).toMatchObject({ sid: call.sid, status: 'queued' });
    expect(await client().findCall({ to: '+14155550100', since })).toBeUndefined();
  });

  it('fails a list the double refuses (bad credentials) without naming the credentials', async () => {
    const bad = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: 'wrong-token',
      from: FROM,
      baseUrl: twilio.url,
    });
    const failure = await failureOf(bad.findCall({ to: ALICE, since: 0 }));
    expect(failure.status).toBe(401);
    expect(failure.message).toContain('Calls.list');
    expectNoSecrets(failure.message);
    expect(failure.message).not.toContain('wrong-token');
  });

  it('double: lists in Twilio’s page shape with To/From/DateSent filters and next_page_uri', async () => {
    await client().sendSms({ to: ALICE, body: 'one' });
    await client().sendSms({ to: ALICE, body: 'two' });
    await client().sendSms({ to: '+14155550100', body: 'three' });
    const today = new Date().toISOString().slice(0, 10);

    const page0 = await list(`To=${encodeURIComponent(ALICE)}&From=${encodeURIComponent(FROM)}&PageSize=1`);
    expect(page0.status).toBe(200);
    expect(page0.body).toMatchObject({ page: 0, page_size: 1, start: 0, end: 0, previous_page_uri: null });
    const messages0 = page0.body.messages as Array<Record<string, unknown>>;
    expect(messages0.map((m) => m.body)).toEqual(['two']);
    expect(messages0[0]).toMatchObject({ to: ALICE, from: FROM, status: 'sent', direction: 'outbound-api' });
    const next = page0.body.next_page_uri as string;
    expect(next).toMatch(/^\/2010-04-01\/Accounts\/AC[0-9a-f]+\/Messages\.json\?.*Page=1.*PageToken=PASM/);

    const res1 = await fetch(`${twilio.url}${next}`, { headers: { authorization: auth } });
    const page1 = (await res1.json()) as Record<string, unknown>;
    expect((page1.messages as Array<Record<string, unknown>>).map((m) => m.body)).toEqual(['one']);
    expect(page1.next_page_uri).toBeNull();

    const sentToday = await list(`DateSent%3E=${today}`);
    expect((sentToday.body.messages as unknown[]).length).toBe(3);
    const sentTomorrow = await list(
      `DateSent%3E=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}`,
    );
    expect(sentTomorrow.body.messages).toEqual([]);
  });
});

describe('double fault injection', () => {
  it('creates the message but never answers: the client times out', async () => {
    twilio.failNext('Messages', { timeout: 'never' });
    const quick = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: FROM,
      baseUrl: twilio.url,
      timeoutMs: 300,
    });
    const failure = await failureOf(quick.sendSms({ to: '+821012345678', body: 'hi' }));
    expect(failure.class).toEqual({ kind: 'retryable', reason: 'network' });
    expect(failure.message).toContain('timed out after 300 ms');
    expect(twilio.messages).toHaveLength(1);
  });

  it('creates the message and answers late', async () => {
    twilio.failNext('Messages', { timeout: 'delay', answerAfterMs: 200 });
    const started = Date.now();
    const result = await client().sendSms({ to: '+821012345678', body: 'hi' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(result.sid).toBe(twilio.messages[0]!.sid);
  });

  it('creates the call and still answers 500 when told so', async () => {
    twilio.failNext('Calls', { status: 500, created: true });
    const failure = await failureOf(client().call({ to: '+821012345678', twiml: '<Response/>' }));
    expect(failure.status).toBe(500);
    expect(twilio.calls).toHaveLength(1);
  });
});

import { createSlackClient } from '../../../src/adapters/slack';
import { startSlackDouble, type SlackDouble } from '../../doubles/slack-double';
import {
  ALICE,
  blockActions,
  BOB_SLACK_ID,
  buildSlackApp,
  captureLogs,
  FakeIncidentPort,
  interactionBody,
  SIGNING_SECRET,
  signed,
  value,
} from '../../helpers/slack';

const INCIDENT = 'incident:dag-customer-etl:customer_etl';
const BOT_TOKEN = 'xoxb-test-token-4711';

let slack: SlackDouble;
let port: FakeIncidentPort;
let client: ReturnType<typeof createSlackClient>;
let tsCounter = 0;

beforeAll(async () => {
  slack = await startSlackDouble({ token: BOT_TOKEN });
  client = createSlackClient({ token: BOT_TOKEN, slackApiUrl: slack.apiUrl, timeoutMs: 2_000 });
});
beforeEach(() => {
  slack.reset();
  port = new FakeIncidentPort();
  port.addIncident(INCIDENT, 'INC-20261125-003');
});
afterAll(() => slack.close());

const nextTs = () => `1764062${String(++tsCounter).padStart(3, '0')}.000100`;

function click(user: string, actionId: string, v: string | undefined, opts: { actionTs?: string } = {}) {
  return blockActions({
    user,
    actionId,
    ...(v !== undefined ? { value: v } : {}),
    actionTs: opts.actionTs ?? nextTs(),
    responseUrl: slack.responseUrl({ channel: 'C0INCIDENTS', ts: '1714557600.123456' }),
  });
}

async function post(
  app: ReturnType<typeof buildSlackApp>['app'],
  body: string,
  headers: Record<string, string>,
) {
  return app.inject({ method: 'POST', url: '/slack/interactions', payload: body, headers });
}

describe('POST /slack/interactions', () => {
  it('acknowledges a signed click with an empty 200 before the action has finished', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    port.delayMs = 300;
    const req = signed(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT))));
    const res = await post(app, req.payload, req.headers);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(slack.responses).toHaveLength(0);
    await handlers.drain();
    expect(slack.responses).toHaveLength(1);
  });

  it('tells the clicker the outcome as an ephemeral reply through response_url', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(
      interactionBody(
        click(ALICE.slackUserId!, 'incident_approve', value(INCIDENT, { s: 'rollback_approval' })),
      ),
    );
    await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(slack.responses.map((r) => r.body)).toEqual([
      {
        response_type: 'ephemeral',
        replace_original: false,
        text: '✅ Alice Kim approved rollback_approval',
      },
    ]);
  });

  it('tells a non-approver that the incident refused their Approve click', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(
      interactionBody(click(BOB_SLACK_ID, 'incident_approve', value(INCIDENT, { s: 'rollback_approval' }))),
    );
    await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(port.calls).toHaveLength(1);
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toEqual([
      '⛔ <@U0BOB> is not an allowed approver for this step (allowed: Alice Kim, Frank Lee)',
    ]);
    expect(port.incidents.get(INCIDENT)!.approval!.status).toBe('pending');
  });

  describe('request signing', () => {
    const cases: Array<
      [string, (body: string) => { payload: string; headers: Record<string, string> }, string]
    > = [
      [
        'a signature made with another secret',
        (body) => signed(body, { secret: 'not-the-signing-secret' }),
        'X-Slack-Signature does not match the request body',
      ],
      [
        'a body changed after signing',
        (body) => ({ ...signed(body), payload: body.replace('incident_ack', 'incident_resolve') }),
        'X-Slack-Signature does not match the request body',
      ],
      [
        'a timestamp 6 minutes old',
        (body) => signed(body, { timestamp: Math.floor(Date.now() / 1000) - 360 }),
        'X-Slack-Request-Timestamp is more than 5 minutes from now',
      ],
      [
        'no signature headers',
        (body) => ({ payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        'missing or malformed X-Slack-Request-Timestamp / X-Slack-Signature headers',
      ],
    ];

    it.each(cases)('refuses %s with 401 and does nothing', async (_name, make, message) => {
      const { app, handlers } = buildSlackApp({ port, client });
      const req = make(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT))));
      const res = await post(app, req.payload, req.headers);
      await handlers.drain();
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'unauthorized', message });
      expect(port.calls).toHaveLength(0);
      expect(slack.responses).toHaveLength(0);
    });

    it('acts only on the signed fresh request among forged, tampered, stale and unsigned ones', async () => {
      const { app, handlers } = buildSlackApp({ port, client });
      const statuses: number[] = [];
      for (const [, make] of cases) {
        const req = make(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT))));
        statuses.push((await post(app, req.payload, req.headers)).statusCode);
      }
      const good = signed(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT))));
      statuses.push((await post(app, good.payload, good.headers)).statusCode);
      await handlers.drain();
      expect(statuses).toEqual([401, 401, 401, 401, 200]);
      expect(port.calls).toHaveLength(1);
      expect(port.calls[0]!.action).toEqual({ kind: 'acknowledge' });
    });

    it('refuses a JSON body (no raw form to verify) and does nothing', async () => {
      const { app, handlers } = buildSlackApp({ port, client });
      const body = JSON.stringify(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT)));
      const req = signed(body);
      const res = await post(app, body, { ...req.headers, 'content-type': 'application/json' });
      await handlers.drain();
      expect(res.statusCode).toBe(415);
      expect(port.calls).toHaveLength(0);
    });
  });

  it('acknowledges a Slack retry of the same payload without acting or replying again', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT))));
    const first = await post(app, req.payload, req.headers);
    const retry = await post(app, req.payload, {
      ...req.headers,
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    });
    await handlers.drain();
    expect([first.statusCode, retry.statusCode]).toEqual([200, 200]);
    expect(port.calls).toHaveLength(1);
    expect(port.calls[0]!.ctx.requestId).toMatch(/^slack:U0ALICE:\d+\.000100$/);
    expect(slack.responses).toHaveLength(1);
  });

  it('sends both clicks of a double click and the incident makes the second a no-op', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const v = value(INCIDENT, { s: 'rollback_approval' });
    for (const actionTs of ['1764062900.000100', '1764062900.000200']) {
      const req = signed(interactionBody(click(ALICE.slackUserId!, 'incident_approve', v, { actionTs })));
      await post(app, req.payload, req.headers);
    }
    await handlers.drain();
    expect(port.calls.map((c) => c.ctx.requestId)).toEqual([
      'slack:U0ALICE:1764062900.000100',
      'slack:U0ALICE:1764062900.000200',
    ]);
    expect(port.incidents.get(INCIDENT)!.approval!.decisions).toHaveLength(1);
    // The first click decided the step; the second click of the same person is a repeat, not a second approval.
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toEqual([
      '✅ Alice Kim approved rollback_approval',
      '✅ Alice Kim already decided on rollback_approval',
    ]);
  });

  it.each([
    ['incident_ack', {}, { kind: 'acknowledge' }],
    [
      'incident_run_runbook:increase_pool',
      { r: 'increase_pool' },
      { kind: 'run_runbook', runbook: 'increase_pool' },
    ],
    ['incident_approve', { s: 'rollback_approval' }, { kind: 'approve', stepId: 'rollback_approval' }],
    ['incident_reject', { s: 'rollback_approval' }, { kind: 'reject', stepId: 'rollback_approval' }],
    ['incident_investigate', {}, { kind: 'investigate' }],
    ['incident_resolve', {}, { kind: 'resolve', note: 'resolved from Slack' }],
  ])('sends %s to the incident as the clicking Slack user', async (actionId, extra, action) => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(
      interactionBody(
        click(ALICE.slackUserId!, actionId, value(INCIDENT, extra), { actionTs: '1764062999.000100' }),
      ),
    );
    await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(port.calls).toEqual([
      {
        ref: INCIDENT,
        action,
        ctx: { user: 'U0ALICE', via: 'slack', requestId: 'slack:U0ALICE:1764062999.000100' },
      },
    ]);
  });

  it('ignores buttons that are not ours with a 200', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(interactionBody(click(ALICE.slackUserId!, 'open_grafana', 'https://grafana')));
    const res = await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(res.statusCode).toBe(200);
    expect(port.calls).toHaveLength(0);
    expect(slack.responses).toHaveLength(0);
  });

  it('ignores interaction types other than block_actions with a 200', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(interactionBody({ type: 'view_submission', user: { id: 'U0ALICE' }, view: {} }));
    const res = await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(res.statusCode).toBe(200);
    expect(port.calls).toHaveLength(0);
  });

  it('tells the clicker when the incident does not exist', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value('incident:gone:x'))));
    await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toEqual([
      '⛔ No such incident: incident:gone:x',
    ]);
  });

  it('tells the clicker when the incident is already closed', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    port.incidents.get(INCIDENT)!.status = 'resolved';
    const req = signed(
      interactionBody(
        click(ALICE.slackUserId!, 'incident_approve', value(INCIDENT, { s: 'rollback_approval' })),
      ),
    );
    await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toEqual([
      '⛔ <@U0ALICE> cannot decide: the incident is closed',
    ]);
  });

  it('tells the clicker that a button without an approval step cannot be used', async () => {
    const { app, handlers } = buildSlackApp({ port, client });
    const req = signed(interactionBody(click(ALICE.slackUserId!, 'incident_approve', value(INCIDENT))));
    await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(port.calls).toHaveLength(0);
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toEqual([
      '⚠️ This button does not name an approval step.',
    ]);
  });

  it('reports an unreachable Temporal and lets a Slack retry of the same click try again', async () => {
    const { app, handlers } = buildSlackApp({ port, client, logs: captureLogs() });
    port.failWith = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
    const req = signed(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT))));
    await post(app, req.payload, req.headers);
    await handlers.drain();
    delete port.failWith;
    await post(app, req.payload, { ...req.headers, 'x-slack-retry-num': '1' });
    await handlers.drain();
    expect(port.calls).toHaveLength(2);
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toEqual([
      '⚠️ The incident engine is unreachable right now: nothing was done. Try again in a minute.',
      '✅ Acknowledged by Alice Kim; paging stopped',
    ]);
  });

  it('falls back to chat.postEphemeral when the response_url no longer works', async () => {
    const { app, handlers } = buildSlackApp({ port, client, logs: captureLogs() });
    const payload = { ...click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT)) };
    payload.response_url = `${slack.url}/response/00000000-0000-0000-0000-000000000000`;
    const req = signed(interactionBody(payload));
    await post(app, req.payload, req.headers);
    await handlers.drain();
    expect(slack.ephemerals).toEqual([
      expect.objectContaining({
        channel: 'C0INCIDENTS',
        user: 'U0ALICE',
        text: '✅ Acknowledged by Alice Kim; paging stopped',
      }),
    ]);
  });

  it.each([
    ['no payload field', 'token=x', 'missing form field "payload"'],
    ['a payload that is not JSON', 'payload=%7Bnot-json', 'form field "payload" is not valid JSON'],
  ])('answers 400 to a signed request with %s', async (_name, body, message) => {
    const { app } = buildSlackApp({ port, client });
    const req = signed(body);
    const res = await post(app, req.payload, req.headers);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'bad_request', message });
  });

  it('answers 404 naming the missing secret when Slack is not configured', async () => {
    const { app } = buildSlackApp({ port, client, slackDisabled: true });
    const req = signed(interactionBody(click(ALICE.slackUserId!, 'incident_ack', value(INCIDENT))));
    const res = await post(app, req.payload, req.headers);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: 'not_found',
      message: 'Slack endpoints are disabled: SLACK_SIGNING_SECRET is not set',
    });
    expect(port.calls).toHaveLength(0);
  });

  it('leaves other routes without a form body parser', async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts',
      payload: 'name=x&severity=P1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(415);
    const json = await app.inject({ method: 'POST', url: '/api/v1/alerts', payload: {} });
    expect(json.statusCode).toBe(400);
  });

  it('never writes the signing secret, the bot token or a response URL to the logs', async () => {
    const logs = captureLogs();
    const { app, handlers } = buildSlackApp({ port, client, logs });
    const good = click(BOB_SLACK_ID, 'incident_approve', value(INCIDENT, { s: 'rollback_approval' }));
    const expired = { ...good, response_url: `${slack.url}/response/00000000-0000-0000-0000-000000000000` };
    for (const req of [
      signed(interactionBody(good)),
      signed(interactionBody(expired)),
      signed(interactionBody(good), { secret: 'wrong' }),
      { ...signed(interactionBody(good)), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    ]) {
      await post(app, req.payload, req.headers);
    }
    await handlers.drain();
    const all = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(4);
    expect(all).toContain('slack request refused');
    expect(all).not.toContain(SIGNING_SECRET);
    expect(all).not.toContain(BOT_TOKEN);
    expect(all).not.toContain('/response/');
  });
});

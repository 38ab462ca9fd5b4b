import { createSlackClient } from '../../../src/adapters/slack';
import { INCIDENT_COMMAND_HELP } from '../../../src/domain/slack-interaction';
import { startSlackDouble, type SlackDouble } from '../../doubles/slack-double';
import { ALICE, buildSlackApp, FakeIncidentPort, signed } from '../../helpers/slack';

const INCIDENT = 'incident:dag-customer-etl:customer_etl';
const NUMBER = 'INC-20261125-003';

let slack: SlackDouble;
let port: FakeIncidentPort;
let client: ReturnType<typeof createSlackClient>;
let trigger = 0;

beforeAll(async () => {
  slack = await startSlackDouble({ token: 'xoxb-test' });
  client = createSlackClient({ token: 'xoxb-test', slackApiUrl: slack.apiUrl, timeoutMs: 2_000 });
});
beforeEach(() => {
  slack.reset();
  port = new FakeIncidentPort();
  port.addIncident(INCIDENT, NUMBER);
});
afterAll(() => slack.close());

function command(text: string, overrides: Record<string, string> = {}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T1',
    team_domain: 'acme',
    channel_id: 'C0INCIDENTS',
    channel_name: 'data-incidents',
    user_id: ALICE.slackUserId!,
    user_name: 'alice',
    command: '/incident',
    text,
    api_app_id: 'A1',
    response_url: slack.responseUrl(),
    trigger_id: `13345224609.738474920.${++trigger}`,
    ...overrides,
  }).toString();
}

async function run(app: ReturnType<typeof buildSlackApp>['app'], body: string, secret?: string) {
  const req = signed(body, secret ? { secret } : {});
  return app.inject({ method: 'POST', url: '/slack/commands', payload: req.payload, headers: req.headers });
}

describe('POST /slack/commands (/incident)', () => {
  it.each([
    ['', INCIDENT_COMMAND_HELP],
    ['help', INCIDENT_COMMAND_HELP],
    ['frobnicate', `⚠️ Unknown subcommand "frobnicate".\n${INCIDENT_COMMAND_HELP}`],
    ['list bogus', `⚠️ Unknown status "bogus" (open, resolved or all).\n${INCIDENT_COMMAND_HELP}`],
    ['show', `⚠️ Show needs an incident id.\n${INCIDENT_COMMAND_HELP}`],
    [
      `resolve ${NUMBER}`,
      `⚠️ Resolve needs a note: /incident resolve <id> <note>.\n${INCIDENT_COMMAND_HELP}`,
    ],
  ])('answers "%s" with the usage, ephemerally', async (text, reply) => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, command(text));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: reply });
    expect(port.calls).toHaveLength(0);
  });

  it('lists open incidents compactly', async () => {
    const { app } = buildSlackApp({ port, client });
    port.addIncident('incident:warehouse:load', 'INC-20261125-004', false).status = 'resolved';
    const res = await run(app, command('list'));
    expect(res.json()).toEqual({
      response_type: 'ephemeral',
      text:
        '*Open incidents* (1)\n' +
        '• `incident:dag-customer-etl:customer_etl` · P1 · awaiting_approval · dag-customer-etl · L1 · ' +
        'opened <!date^1795598100^{date_short_pretty} {time}|2026-11-25T09:15:00.000Z>',
    });
  });

  it('says so when no incident matches the list', async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, command('list resolved'));
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: 'No resolved incidents.' });
  });

  it('shows an incident with its status, approvals, runbook and links', async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, command(`show ${NUMBER}`));
    expect(res.json<{ text: string }>().text).toBe(
      [
        '*INC-20261125-003*: customer_etl failure (P1)',
        '*Status:* awaiting approval · *Service:* dag-customer-etl',
        '*Acknowledged:* not yet',
        '*Pending approval:* `rollback_approval` (runbook rollback_deployment): Roll back deployment ' +
          'airflow-workers to v2.3.0?; approvers Alice Kim, Frank Lee; until ' +
          '<!date^1795600800^{date_short_pretty} {time}|2026-11-25T10:00:00.000Z>',
        '*Runbook:* none run yet',
        '*Links:* <http://localhost:8233/namespaces/default/workflows/incident|Temporal Web UI> · ' +
          '`incident:dag-customer-etl:customer_etl`',
      ].join('\n'),
    );
  });

  it('tells the person when the incident to show does not exist', async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, command('show INC-20991231-999'));
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: '⛔ No such incident: INC-20991231-999' });
  });

  it('acknowledges an incident as the typing Slack user and answers with the outcome', async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, command(`ack ${NUMBER}`, { trigger_id: '111.222.abc' }));
    expect(res.json()).toEqual({
      response_type: 'ephemeral',
      text: '✅ Acknowledged by Alice Kim; paging stopped',
    });
    expect(port.calls).toEqual([
      {
        ref: NUMBER,
        action: { kind: 'acknowledge' },
        ctx: { user: 'U0ALICE', via: 'slack', requestId: 'slack:U0ALICE:cmd:111.222.abc' },
      },
    ]);
  });

  it('resolves an incident with the note', async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, command(`resolve ${NUMBER} restarted the workers`));
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: '✅ Resolved by Alice Kim' });
    expect(port.calls.map((c) => c.action)).toEqual([{ kind: 'resolve', note: 'restarted the workers' }]);
  });

  it('acts once when the same command arrives twice', async () => {
    const { app } = buildSlackApp({ port, client });
    const body = command(`ack ${NUMBER}`);
    await run(app, body);
    const again = await run(app, body);
    expect(again.json()).toEqual({
      response_type: 'ephemeral',
      text: '⏳ This command was already received.',
    });
    expect(port.calls).toHaveLength(1);
  });

  it('answers "working on it" when the incident is slow and follows up through response_url', async () => {
    const { app, handlers } = buildSlackApp({ port, client, handlerOptions: { commandBudgetMs: 50 } });
    port.delayMs = 300;
    const res = await run(app, command(`ack ${NUMBER}`));
    expect(res.json()).toEqual({
      response_type: 'ephemeral',
      text: '⏳ Working on `ack`: the answer follows here.',
    });
    expect(slack.responses).toHaveLength(0);
    await handlers.drain();
    expect(slack.responses.map((r) => r.body)).toEqual([
      {
        response_type: 'ephemeral',
        replace_original: false,
        text: '✅ Acknowledged by Alice Kim; paging stopped',
      },
    ]);
  });

  it('refuses a command signed with another secret and does nothing', async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, command(`ack ${NUMBER}`), 'not-the-signing-secret');
    expect(res.statusCode).toBe(401);
    expect(port.calls).toHaveLength(0);
  });

  it("answers Slack's ssl_check with an empty 200", async () => {
    const { app } = buildSlackApp({ port, client });
    const res = await run(app, 'ssl_check=1&token=legacy-verification-token');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });
});

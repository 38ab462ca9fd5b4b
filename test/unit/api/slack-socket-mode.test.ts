import { type Logger, LogLevel } from '@slack/socket-mode';
import { createSlackClient } from '../../../src/adapters/slack';
import { createSlackHandlers } from '../../../src/api/slack/handlers';
import { type SocketModeConnection, startSocketMode } from '../../../src/api/slack/socket-mode';
import { startSlackDouble, type SlackDouble } from '../../doubles/slack-double';
import {
  type SlackSocketModeDouble,
  startSlackSocketModeDouble,
} from '../../doubles/slack-socket-mode-double';
import { ALICE, blockActions, BOB_SLACK_ID, captureLogs, FakeIncidentPort, value } from '../../helpers/slack';

const APP_TOKEN = 'xapp-1-A0DOUBLE-1234-abcdef';
const INCIDENT = 'incident:dag-customer-etl:customer_etl';

let slack: SlackDouble;
let socket: SlackSocketModeDouble;
let port: FakeIncidentPort;
let handlers: ReturnType<typeof createSlackHandlers>;
let connection: SocketModeConnection | undefined;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  slack = await startSlackDouble({ token: 'xoxb-test' });
});
beforeEach(async () => {
  slack.reset();
  socket = await startSlackSocketModeDouble({ appToken: APP_TOKEN });
  port = new FakeIncidentPort();
  port.addIncident(INCIDENT, 'INC-20261125-003');
  logs = captureLogs();
  handlers = createSlackHandlers({
    actions: port,
    client: createSlackClient({ token: 'xoxb-test', slackApiUrl: slack.apiUrl, timeoutMs: 2_000 }),
    log: logs.log,
  });
});
afterEach(async () => {
  await connection?.stop();
  connection = undefined;
  await handlers.drain();
  await socket.close();
});
afterAll(() => slack.close());

const connect = async (appToken = APP_TOKEN) => {
  connection = await startSocketMode({
    appToken,
    handlers,
    slackApiUrl: socket.apiUrl,
    connectRetries: 0,
    log: logs.log,
  });
  await socket.waitForConnections(1);
};

describe('startSocketMode', () => {
  it('opens the connection with the app-level token through apps.connections.open', async () => {
    await connect();
    expect(socket.openCalls).toEqual([
      { token: APP_TOKEN, response: expect.objectContaining({ ok: true }) as unknown },
    ]);
    expect(socket.connections()).toBe(1);
  });

  it('acknowledges an interactive envelope and runs the click through the same handlers', async () => {
    await connect();
    const envelopeId = socket.send(
      'interactive',
      blockActions({
        user: BOB_SLACK_ID,
        actionId: 'incident_approve',
        value: value(INCIDENT, { s: 'rollback_approval' }),
        actionTs: '1764063000.000100',
        responseUrl: slack.responseUrl(),
      }),
    );
    expect(await socket.waitForAck(envelopeId)).toEqual({ envelope_id: envelopeId });
    await handlers.drain();
    expect(port.calls).toEqual([
      {
        ref: INCIDENT,
        action: { kind: 'approve', stepId: 'rollback_approval' },
        ctx: { user: BOB_SLACK_ID, via: 'slack', requestId: 'slack:U0BOB:1764063000.000100' },
      },
    ]);
    expect(slack.responses.map((r) => (r.body as { text: string }).text)).toEqual([
      '⛔ <@U0BOB> is not an allowed approver for this step (allowed: Alice Kim, Frank Lee)',
    ]);
  });

  it('acts once when Slack redelivers the same click in a new envelope', async () => {
    await connect();
    const payload = blockActions({
      user: ALICE.slackUserId!,
      actionId: 'incident_ack',
      value: value(INCIDENT),
      actionTs: '1764063001.000100',
      responseUrl: slack.responseUrl(),
    });
    const first = socket.send('interactive', payload);
    await socket.waitForAck(first);
    const second = socket.send('interactive', payload);
    await socket.waitForAck(second);
    await handlers.drain();
    expect(port.calls).toHaveLength(1);
    expect(slack.responses).toHaveLength(1);
  });

  it('answers a slash command in the ack payload', async () => {
    await connect();
    const envelopeId = socket.send('slash_commands', {
      token: 'legacy',
      team_id: 'T1',
      channel_id: 'C0INCIDENTS',
      user_id: ALICE.slackUserId,
      user_name: 'alice',
      command: '/incident',
      text: 'ack INC-20261125-003',
      response_url: slack.responseUrl(),
      trigger_id: '222.333.def',
    });
    expect(await socket.waitForAck(envelopeId)).toEqual({
      envelope_id: envelopeId,
      payload: { response_type: 'ephemeral', text: '✅ Acknowledged by Alice Kim; paging stopped' },
    });
    expect(port.calls.map((c) => c.ctx.requestId)).toEqual(['slack:U0ALICE:cmd:222.333.def']);
  });

  it('acknowledges and ignores envelopes it does not handle', async () => {
    await connect();
    const envelopeId = socket.send('events_api', {
      type: 'event_callback',
      event: { type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> hi' },
    });
    expect(await socket.waitForAck(envelopeId)).toEqual({ envelope_id: envelopeId });
    expect(port.calls).toHaveLength(0);
  });

  it('fails to start with a token Slack does not accept', async () => {
    await expect(
      startSocketMode({
        appToken: 'xapp-1-wrong',
        handlers,
        slackApiUrl: socket.apiUrl,
        connectRetries: 0,
        autoReconnect: false,
        libraryLogger: libraryLogger([]),
      }),
    ).rejects.toThrow('invalid_auth');
    expect(socket.connections()).toBe(0);
  });

  it('never writes the app token to the logs, not even the library debug log', async () => {
    const libraryLines: string[] = [];
    connection = await startSocketMode({
      appToken: APP_TOKEN,
      handlers,
      slackApiUrl: socket.apiUrl,
      connectRetries: 0,
      log: logs.log,
      libraryLogger: libraryLogger(libraryLines),
    });
    await socket.waitForConnections(1);
    const envelopeId = socket.send(
      'interactive',
      blockActions({
        user: ALICE.slackUserId!,
        actionId: 'incident_ack',
        value: value(INCIDENT),
        actionTs: '1764063002.000100',
        responseUrl: slack.responseUrl(),
      }),
    );
    await socket.waitForAck(envelopeId);
    await handlers.drain();
    const all = [...logs.lines, ...libraryLines].join('\n');
    expect(all).toContain('slack socket mode connected');
    expect(all).toContain('apps.connections.open');
    expect(all).not.toContain(APP_TOKEN);
  });
});

/** A `@slack/logger` Logger at DEBUG that records every line. */
function libraryLogger(lines: string[]): Logger {
  const put = (...msg: unknown[]): void => {
    lines.push(msg.map(String).join(' '));
  };
  return {
    debug: put,
    info: put,
    warn: put,
    error: put,
    setLevel: () => undefined,
    getLevel: () => LogLevel.DEBUG,
    setName: () => undefined,
  };
}

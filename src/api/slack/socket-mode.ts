import { type Logger, LogLevel, SocketModeClient } from '@slack/socket-mode';
import type { SlackHandlers, SlackLogger } from './handlers';

export interface SocketModeOptions {
  /** App-level token (`SLACK_APP_TOKEN`, `xapp-…`) with the `connections:write` scope. */
  appToken: string;
  /** The same handlers the HTTP endpoints use. */
  handlers: Pick<SlackHandlers, 'handleInteraction' | 'handleSlashCommand'>;
  /** `SLACK_API_URL` (where `apps.connections.open` is called). Default `https://slack.com/api/`. */
  slackApiUrl?: string;
  log?: SlackLogger;
  /** Logger and level of the `@slack/socket-mode` library itself (default: its console logger at WARN). */
  libraryLogger?: Logger;
  libraryLogLevel?: LogLevel;
  /** Retries of `apps.connections.open` while (re)connecting (default: the library's 100). */
  connectRetries?: number;
  /** Reconnect after Slack recycles the connection (default true; Slack does this every few hours). */
  autoReconnect?: boolean;
}

export interface SocketModeConnection {
  client: SocketModeClient;
  /** Disconnects (no reconnect). Clicks already taken on finish in the handlers (see `drain`). */
  stop(): Promise<void>;
}

const HANDLED = new Set(['interactive', 'slash_commands']);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type Ack = (response?: Record<string, unknown>) => Promise<void>;

/**
 * Socket Mode: the alternative to the HTTP endpoints when the API is not reachable from Slack. Opens a
 * WebSocket with `apps.connections.open` (app-level token), then handles envelopes with the same
 * handlers: an `interactive` envelope is acknowledged at once and the click handled in the background
 * (the reply goes through `response_url`, as over HTTP); a `slash_commands` envelope is acknowledged with
 * the command's ephemeral reply as the ack payload. Other envelopes are acknowledged and ignored. No
 * signature check is needed: only Slack holds the connection. Resolves once Slack said `hello`.
 */
export async function startSocketMode(options: SocketModeOptions): Promise<SocketModeConnection> {
  const { handlers } = options;
  const log = options.log;
  const client = new SocketModeClient({
    appToken: options.appToken,
    autoReconnectEnabled: options.autoReconnect ?? true,
    ...(options.libraryLogger
      ? { logger: options.libraryLogger }
      : { logLevel: options.libraryLogLevel ?? LogLevel.WARN }),
    clientOptions: {
      ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
      ...(options.connectRetries !== undefined ? { retryConfig: { retries: options.connectRetries } } : {}),
    },
  });

  const ackSafely = async (ack: Ack, envelopeId: unknown, response?: Record<string, unknown>) => {
    try {
      await ack(response);
    } catch (err) {
      log?.warn({ envelopeId, error: errorText(err) }, 'slack socket mode ack failed');
    }
  };

  client.on(
    'interactive',
    async ({ ack, body, envelope_id }: { ack: Ack; body: unknown; envelope_id: unknown }) => {
      await ackSafely(ack, envelope_id);
      handlers.handleInteraction(body).catch((err: unknown) => {
        log?.error({ envelopeId: envelope_id, error: errorText(err) }, 'slack interaction failed');
      });
    },
  );

  client.on(
    'slash_commands',
    async ({ ack, body, envelope_id }: { ack: Ack; body: unknown; envelope_id: unknown }) => {
      let reply: Record<string, unknown> | undefined;
      try {
        reply = { ...(await handlers.handleSlashCommand(body)) };
      } catch (err) {
        log?.error({ envelopeId: envelope_id, error: errorText(err) }, 'slash command failed');
      }
      await ackSafely(ack, envelope_id, reply);
    },
  );

  client.on(
    'slack_event',
    async ({ ack, type, envelope_id }: { ack: Ack; type: string; envelope_id?: unknown }) => {
      if (HANDLED.has(type) || envelope_id === undefined) return;
      log?.info({ type }, 'slack socket mode envelope ignored');
      await ackSafely(ack, envelope_id);
    },
  );

  client.on('connected', () => log?.info({}, 'slack socket mode connected'));
  client.on('reconnecting', () => log?.info({}, 'slack socket mode reconnecting'));

  await client.start();
  return {
    client,
    stop: async () => {
      await client.disconnect();
    },
  };
}

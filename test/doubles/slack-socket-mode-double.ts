import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { header, type ListenOptions, sendJson, sendText } from './http-server';

/**
 * Slack Socket Mode test double: `POST /api/apps.connections.open` (app-level token `xapp-…` as Bearer)
 * answers `{ok:true, url:"ws://127.0.0.1:<port>/link/?ticket=…"}`; the WebSocket at that URL (each ticket
 * works once) greets with `hello`, then carries the envelopes a test sends and records the client's acks
 * (`{envelope_id, payload?}`). Point `SocketModeClient`'s `clientOptions.slackApiUrl` at {@link apiUrl}.
 */
export interface SlackSocketModeDoubleOptions extends ListenOptions {
  /** The only accepted app token. Default: any token starting with `xapp-`. */
  appToken?: string;
  /** Server pings to each connection (Slack pings every few seconds; the client times out after 30 s). */
  pingIntervalMs?: number;
}

/** A message the client sent over the socket: an ack carries the envelope id (and a response payload). */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export interface ConnectionsOpenCall {
  token?: string;
  response: Record<string, unknown>;
}

export interface SlackSocketModeDouble {
  /** `http://127.0.0.1:<port>/api/` */
  apiUrl: string;
  openCalls: ConnectionsOpenCall[];
  /** Every message received from clients, parsed. */
  received: unknown[];
  acks: SocketAck[];
  /** Open WebSocket connections. */
  connections(): number;
  /** Resolves once at least `count` connections are open (after `hello`). */
  waitForConnections(count?: number, timeoutMs?: number): Promise<void>;
  /**
   * Sends an envelope to every open connection and returns its id. `interactive` and `events_api`
   * envelopes do not accept a response payload; `slash_commands` do.
   */
  send(type: 'interactive' | 'slash_commands' | 'events_api', payload: unknown): string;
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<SocketAck>;
  /** Sends Slack's `disconnect` message (the client should reconnect through `apps.connections.open`). */
  sendDisconnect(reason?: 'warning' | 'refresh_requested' | 'link_disabled'): void;
  close(): Promise<void>;
}

const APP_ID = 'A0DOUBLE';

export async function startSlackSocketModeDouble(
  options: SlackSocketModeDoubleOptions = {},
): Promise<SlackSocketModeDouble> {
  const openCalls: ConnectionsOpenCall[] = [];
  const received: unknown[] = [];
  const acks: SocketAck[] = [];
  const tickets = new Set<string>();
  const sockets = new Set<WebSocket>();
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      if (req.method !== 'POST' || url.pathname !== '/api/apps.connections.open') {
        return sendText(res, 404, 'not found');
      }
      const token = /^Bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
      let response: Record<string, unknown>;
      if (!token) response = { ok: false, error: 'not_authed' };
      else if (token.startsWith('xox')) response = { ok: false, error: 'not_allowed_token_type' };
      else if (options.appToken ? token !== options.appToken : !token.startsWith('xapp-'))
        response = { ok: false, error: 'invalid_auth' };
      else {
        const ticket = randomUUID();
        tickets.add(ticket);
        const { port } = server.address() as AddressInfo;
        response = { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${APP_ID}` };
      }
      openCalls.push({ ...(token ? { token } : {}), response });
      sendJson(res, 200, response);
    });
  });

  const wss = new WebSocketServer({
    server,
    verifyClient: (info: { req: IncomingMessage }) => {
      const ticket = new URL(info.req.url ?? '/', 'http://double').searchParams.get('ticket') ?? '';
      return tickets.delete(ticket);
    },
  });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('message', (data: Buffer) => {
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        msg = data.toString('utf8');
      }
      received.push(msg);
      const m = msg as { envelope_id?: unknown; payload?: unknown };
      if (typeof m?.envelope_id === 'string') {
        acks.push({
          envelope_id: m.envelope_id,
          ...(m.payload && typeof m.payload === 'object' && Object.keys(m.payload).length > 0
            ? { payload: m.payload as Record<string, unknown> }
            : {}),
        });
      }
      notify();
    });
    ws.on('close', () => {
      sockets.delete(ws);
      notify();
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'applink-double', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: APP_ID },
      }),
    );
    notify();
  });

  const pinger = setInterval(() => sockets.forEach((s) => s.ping()), options.pingIntervalMs ?? 5_000);
  pinger.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`socket mode double: timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    openCalls,
    received,
    acks,
    connections: () => sockets.size,
    waitForConnections: (count = 1, timeoutMs = 2_000) =>
      waitFor(() => sockets.size >= count, timeoutMs, `${count} connection(s)`),
    send(type, payload) {
      const envelopeId = randomUUID();
      const envelope = {
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type === 'slash_commands',
        ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
      };
      for (const s of sockets) s.send(JSON.stringify(envelope));
      return envelopeId;
    },
    async waitForAck(envelopeId, timeoutMs = 2_000) {
      await waitFor(() => acks.some((a) => a.envelope_id === envelopeId), timeoutMs, `ack of ${envelopeId}`);
      return acks.find((a) => a.envelope_id === envelopeId)!;
    },
    sendDisconnect(reason = 'refresh_requested') {
      const msg = JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-double' } });
      for (const s of sockets) s.send(msg);
    },
    close: async () => {
      clearInterval(pinger);
      for (const s of sockets) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Shared plumbing of the HTTP test doubles: a `node:http` server on 127.0.0.1, port 0 by default. */
export interface ListenOptions {
  host?: string;
  port?: number;
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, rawBody: string, res: ServerResponse) => void | Promise<void>;

export async function listen(handler: Handler, options: ListenOptions = {}): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handler(req, Buffer.concat(chunks).toString('utf8'), res)).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
        else res.end();
      });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** Form-encoded body as a plain object (last value wins for repeated keys). */
export function parseForm(raw: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(raw).entries());
}

export function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Programmed failures per key, consumed in order. */
export class FailureQueue<F> {
  private readonly queues = new Map<string, F[]>();

  add(key: string, failure: F, times: number): void {
    const queue = this.queues.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.queues.set(key, queue);
  }

  /** The next failure for `key` (or for `*` unless `wildcard` is false), removing it. */
  take(key: string, wildcard = true): F | undefined {
    for (const k of wildcard ? [key, '*'] : [key]) {
      const queue = this.queues.get(k);
      if (queue?.length) return queue.shift();
    }
    return undefined;
  }

  clear(): void {
    this.queues.clear();
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

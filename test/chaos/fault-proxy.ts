/**
 * A fault-injecting HTTP proxy in front of one test double. It forwards everything unchanged until a
 * request matches its armed rule (once), then either
 * - `during`: holds the request, runs `onHit` (kills the worker) and only then forwards it, so the double
 *   applies the change after its client died and nobody reads the answer; or
 * - `after`: forwards it, lets the double apply it, runs `onHit` and drops the answer instead of relaying it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy sees of a request. */
export interface ProxiedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  body: string;
}

export interface FaultRule {
  match: (req: ProxiedRequest) => boolean;
  mode: 'during' | 'after';
  onHit: () => Promise<void>;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` plus the target's base path. */
  url: string;
  arm(rule: FaultRule): void;
  /** True once the armed rule fired and its `onHit` finished. */
  fired(): boolean;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Upstream {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Proxies to `targetUrl` (scheme, host and port; its path is kept as the proxy URL's path). */
export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  let rule: FaultRule | undefined;
  let done = false;

  const forward = (req: IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (res) => {
          readBody(res).then(
            (b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }),
            reject,
          );
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const relay = (res: ServerResponse, up: Upstream): void => {
    const headers = { ...up.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(up.body.length);
    res.writeHead(up.status, headers);
    res.end(up.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Watches (kubectl rollout status) stream: pass them through without buffering.
    if (req.url?.includes('watch=')) {
      const out = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.flushHeaders();
          up.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      res.on('close', () => out.destroy());
      req.pipe(out);
      return;
    }
    const body = await readBody(req);
    const seen: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', body: body.toString() };
    const hit = rule && !done && rule.match(seen) ? rule : undefined;
    if (!hit) {
      relay(res, await forward(req, body));
      return;
    }
    rule = undefined;
    if (hit.mode === 'during') {
      await hit.onHit();
      done = true;
      await forward(req, body);
      res.destroy();
      return;
    }
    const answer = await forward(req, body);
    await hit.onHit();
    done = true;
    void answer;
    res.destroy();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const basePath = target.pathname === '/' ? '' : target.pathname;
  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    arm: (r) => {
      rule = r;
      done = false;
    },
    fired: () => done,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  FailureQueue,
  header,
  listen,
  type ListenOptions,
  parseJson,
  sendJson,
  sendText,
} from './http-server';

/**
 * Receiver for incidentflow's outbound webhooks (`src/adapters/webhook.ts`): accepts JSON POSTs on any
 * path, records them, and checks `X-Incidentflow-Signature: sha256=<hex HMAC(secret, raw body)>` when a
 * secret is configured. Programmable failures (4xx/5xx, 429 with Retry-After).
 */
export interface WebhookDoubleOptions extends ListenOptions {
  /** HMAC key to verify signatures with. */
  secret?: string;
  /** With a secret: answer 401 to a missing or wrong signature (default true). */
  rejectBadSignatures?: boolean;
}

export type WebhookFailure = { status: number; retryAfter?: number };

export interface WebhookRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** Parsed JSON body, undefined when the body is not JSON. */
  json: unknown;
  idempotencyKey?: string;
  timestamp?: string;
  signature?: string;
  /** Only with a configured secret. */
  signatureValid?: boolean;
  status: number;
  at: number;
}

export interface WebhookDouble {
  url: string;
  requests: WebhookRequest[];
  /** Requests that were answered 2xx. */
  accepted(): WebhookRequest[];
  failNext(failure: WebhookFailure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookDouble(options: WebhookDoubleOptions = {}): Promise<WebhookDouble> {
  const requests: WebhookRequest[] = [];
  const failures = new FailureQueue<WebhookFailure>();
  const rejectBad = options.rejectBadSignatures ?? true;

  const server = await listen((req, raw, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const parsed = parseJson(raw);
    const signature = header(req, 'x-incidentflow-signature');
    const idempotencyKey = header(req, 'idempotency-key');
    const timestamp = header(req, 'x-incidentflow-timestamp');
    const signatureValid = options.secret !== undefined ? verify(options.secret, raw, signature) : undefined;
    const record = (status: number) =>
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        headers: req.headers,
        rawBody: raw,
        json: parsed.ok ? parsed.value : undefined,
        ...(idempotencyKey ? { idempotencyKey } : {}),
        ...(timestamp ? { timestamp } : {}),
        ...(signature ? { signature } : {}),
        ...(signatureValid !== undefined ? { signatureValid } : {}),
        status,
        at: Date.now(),
      });

    const failure = failures.take('*');
    if (failure) {
      record(failure.status);
      const headers: Record<string, string> =
        failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {};
      return sendText(res, failure.status, 'programmed failure', headers);
    }
    if (signatureValid === false && rejectBad) {
      record(401);
      return sendJson(res, 401, { error: 'bad signature' });
    }
    if (!parsed.ok) {
      record(400);
      return sendJson(res, 400, { error: 'body is not JSON' });
    }
    record(200);
    sendJson(res, 200, { ok: true });
  }, options);

  return {
    url: server.url,
    requests,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    failNext: (failure, times = 1) => failures.add('*', failure, times),
    reset() {
      requests.length = 0;
      failures.clear();
    },
    close: () => server.close(),
  };
}

function verify(secret: string, raw: string, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

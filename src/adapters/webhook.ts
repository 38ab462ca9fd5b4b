import { createHmac } from 'node:crypto';
import { createHttpClient } from './http-client';

export const SIGNATURE_HEADER = 'X-Incidentflow-Signature';
export const TIMESTAMP_HEADER = 'X-Incidentflow-Timestamp';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** A configured outbound webhook. The URL may embed a secret: it never appears in messages. */
export interface WebhookTarget {
  /** Name used in messages and page results instead of the URL. */
  name: string;
  url: string;
  /** HMAC-SHA256 key; when set, requests carry `X-Incidentflow-Signature: sha256=<hex>`. */
  secret?: string;
}

export interface WebhookDelivery {
  /** Serialised once; the signature covers exactly the bytes sent. */
  payload: unknown;
  /** Sent as `Idempotency-Key` so receivers can drop repeats of the same page. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

export interface WebhookSender {
  /** POSTs the JSON payload; resolves with the 2xx status, throws `HttpFailure` otherwise. */
  send(target: WebhookTarget, delivery: WebhookDelivery): Promise<{ status: number }>;
}

export interface WebhookSenderOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Clock for `X-Incidentflow-Timestamp` (Unix seconds). */
  now?: () => number;
  userAgent?: string;
}

/** Generic outbound JSON webhook with optional HMAC signature and an idempotency key. */
export function createWebhookSender(options: WebhookSenderOptions = {}): WebhookSender {
  const now = options.now ?? Date.now;
  return {
    async send(target, delivery) {
      const http = createHttpClient({
        provider: 'webhook',
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        now,
        redact: target.secret ? [target.secret] : [],
      });
      const body = JSON.stringify(delivery.payload);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': options.userAgent ?? 'incidentflow',
        [IDEMPOTENCY_HEADER]: delivery.idempotencyKey,
        [TIMESTAMP_HEADER]: String(Math.floor(now() / 1000)),
      };
      if (target.secret) headers[SIGNATURE_HEADER] = signWebhookBody(target.secret, body);
      const res = await http.send({
        url: target.url,
        operation: `POST ${target.name}`,
        headers,
        body,
        ...(delivery.signal ? { signal: delivery.signal } : {}),
      });
      return { status: res.status };
    },
  };
}

/** `sha256=<hex HMAC-SHA256(secret, rawBody)>`: what receivers recompute over the raw request body. */
export function signWebhookBody(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

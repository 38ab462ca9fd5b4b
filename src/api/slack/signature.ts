import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a Slack request was refused. */
export type SignatureFailure = 'missing_headers' | 'stale_timestamp' | 'bad_signature';

/**
 * Verifies Slack request signing v0 over the raw body: `v0=hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body))`,
 * compared in constant time, with the timestamp within `toleranceSec` (5 minutes) of now.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer | string;
  nowSec: number;
  toleranceSec?: number;
}): { ok: true } | { ok: false; reason: SignatureFailure } {
  const { timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return { ok: false, reason: 'missing_headers' };
  if (Math.abs(input.nowSec - Number(timestamp)) > (input.toleranceSec ?? 300)) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody) : input.rawBody;
  const expected = Buffer.from(
    `v0=${createHmac('sha256', input.signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  const ok = given.length === expected.length && timingSafeEqual(given, expected);
  return ok ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

/** Signs a body like Slack does (for the tests and the local Slack double). */
export function signSlackRequest(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time string comparison (hashing first so lengths never leak through timing). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/**
 * Checks an `Authorization: Bearer <token>` header against the configured token. Returns null when the
 * request may proceed, else the reason for a 401.
 */
export function checkBearer(header: string | undefined, token: string | undefined): string | null {
  if (token === undefined) return null;
  if (header === undefined || header === '')
    return 'missing Authorization header (expected "Bearer <token>")';
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) return 'Authorization header must use the Bearer scheme';
  return safeEqual(match[1], token) ? null : 'invalid bearer token';
}

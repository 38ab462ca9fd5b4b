/**
 * Catalogue of failure types crossing the activity/workflow boundary (`ApplicationFailure.type`). Custom
 * Error subclasses do not survive that boundary; these strings do. Activities throw them, workflows match
 * on them, and `nonRetryableErrorTypes` lists the final ones.
 */
export const ErrorType = {
  /** 429: retry after the server's Retry-After (carried as `nextRetryDelay`). */
  RateLimited: 'RateLimited',
  /** 5xx or network: retry with backoff. */
  Unavailable: 'Unavailable',
  /** 401/403 or a rejected token: final. */
  AuthFailed: 'AuthFailed',
  /** Any other 4xx (bad number, bad request): final. */
  Rejected: 'Rejected',
  /** The object does not exist (DAG, deployment, channel): final. */
  NotFound: 'NotFound',
  /** Refused by our own configuration (allowlist, missing contact): final. */
  NotAllowed: 'NotAllowed',
  /** Not configured (no Slack token, no Twilio credentials): final. */
  NotConfigured: 'NotConfigured',
  /** A command or remote operation ran and reported failure (kubectl exit 1, task failed): final for this attempt. */
  OperationFailed: 'OperationFailed',
  /** A wait ran out of time (rollout status, check deadline). */
  TimedOut: 'TimedOut',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Error types an activity retry can never fix. */
export const FINAL_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.AuthFailed,
  ErrorType.Rejected,
  ErrorType.NotFound,
  ErrorType.NotAllowed,
  ErrorType.NotConfigured,
  ErrorType.OperationFailed,
];

/** How an HTTP failure should be handled (Alertmanager's Retrier/Reason idea). */
export type HttpFailureClass =
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'retryable'; reason: 'server_error' | 'network' }
  | { kind: 'final'; type: ErrorType; reason: 'auth' | 'not_found' | 'client_error' };

/**
 * Classifies an HTTP status: 429 waits for Retry-After (seconds or an HTTP date; default 30 s), 5xx
 * retries, 401/403 are auth failures, 404 not found, any other 4xx is final.
 */
export function classifyHttpStatus(
  status: number,
  retryAfter: string | null | undefined,
  nowMs: number,
): HttpFailureClass {
  if (status === 429) return { kind: 'rate_limited', retryAfterMs: parseRetryAfter(retryAfter, nowMs) };
  if (status >= 500) return { kind: 'retryable', reason: 'server_error' };
  if (status === 401 || status === 403) return { kind: 'final', type: ErrorType.AuthFailed, reason: 'auth' };
  if (status === 404) return { kind: 'final', type: ErrorType.NotFound, reason: 'not_found' };
  return { kind: 'final', type: ErrorType.Rejected, reason: 'client_error' };
}

/** Parses a Retry-After header (delta seconds or HTTP date) into milliseconds; 30 s when absent or bad. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
  fallbackMs = 30_000,
): number {
  if (value === null || value === undefined || value.trim() === '') return fallbackMs;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? fallbackMs : Math.max(0, date - nowMs);
}

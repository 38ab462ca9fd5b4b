import { ApplicationFailure } from '@temporalio/common';
import { isUpstreamError } from '../adapters/upstream-error';

/**
 * Converts an adapter's classified error into the `ApplicationFailure` the workflow matches on (same
 * `type`; final types non-retryable; 429 carries the server's Retry-After as `nextRetryDelay`). Anything
 * else (cancellation, our own ApplicationFailures) passes through unchanged.
 */
export function toActivityFailure(err: unknown): unknown {
  if (!isUpstreamError(err)) return err;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !err.retryable,
    ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
  });
}

/** Runs `fn`, re-throwing adapter errors as activity failures. */
export async function withUpstreamFailures<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err);
  }
}

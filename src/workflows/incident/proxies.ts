import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType, FINAL_ERROR_TYPES } from '../../domain/errors';

const nonRetryableErrorTypes = [...FINAL_ERROR_TYPES];

/** Slack, store and other short calls: quick retries, a few minutes in total. */
export const quick = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 10,
    nonRetryableErrorTypes,
  },
});

/** Paging: 429 waits for Retry-After (nextRetryDelay), 5xx/network back off; final failures come back as results. */
export const paging = proxyActivities<Activities>({
  startToCloseTimeout: '60s',
  heartbeatTimeout: '30s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 8,
    nonRetryableErrorTypes,
  },
});

/** Side effects on Airflow and HTTP systems: a few retries for transport errors only. */
export const actions = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '60s',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...nonRetryableErrorTypes, ErrorType.TimedOut],
  },
});

/** kubectl: strict — at most 3 attempts, auth/not-found/refusals are final. */
export const kube = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '60s',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...nonRetryableErrorTypes, ErrorType.TimedOut],
  },
});

/** Learn layer (store, diagnosis, postmortems): idempotent upserts, retried patiently. */
export const learn = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes,
  },
});

/** Options for one call with its own timeout and Web UI summary. */
export function withTimeout(ms: number, summary?: string): ActivityOptions {
  return { startToCloseTimeout: Math.max(1_000, ms), ...(summary ? { summary: summary.slice(0, 200) } : {}) };
}

/** Metrics: best effort, never retried for long (a lost batch only skews a dashboard). */
export const metrics = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

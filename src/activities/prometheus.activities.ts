import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { PrometheusClient, PromSample } from '../adapters/prometheus';
import { formatDuration } from '../domain/duration';
import { ErrorType } from '../domain/errors';
import { NO_HOLD } from '../domain/hold';
import { currentActivityRuntime } from './activity-runtime';
import type { Clock } from './clock';
import { pollForHold } from './hold-poller';
import { withUpstreamFailures } from './upstream-failure';

export interface PrometheusActivityDeps {
  prometheus: PrometheusClient;
  clock: Clock;
}

export interface PrometheusAwaitCheckInput {
  /** PromQL; the check holds while it returns a non-empty instant vector (write it as a filter: `x < 0.05`). */
  expr: string;
  /** How long the expression must keep holding (0 = the first non-empty result suffices). */
  holdForMs: number;
  /** Absolute time (ms since epoch, workflow time) after which the check gives up. */
  deadlineAtMs: number;
  pollIntervalMs: number;
}

export type PrometheusAwaitCheckResult =
  | { held: true; since: number; samples: PromSample[]; polls: number }
  | {
      held: false;
      /** Human-readable: why the check did not hold by the deadline. */
      reason: string;
      /** First sample's value at the last poll; null when the last result was empty. */
      lastValue: string | null;
      since: number | null;
      polls: number;
    };

export interface PrometheusQueryInput {
  expr: string;
  /** Evaluation time (ms since epoch); default now. */
  atMs?: number;
}

export interface PrometheusQueryResult {
  resultType: string;
  samples: PromSample[];
}

/** What `prometheusAwaitCheck` heartbeats; a retried attempt resumes from it. */
const CheckProgress = z.object({
  expr: z.string(),
  since: z.number().nullable(),
  polls: z.number().int().min(0),
  lastValue: z.string().nullable(),
});
type CheckProgress = z.infer<typeof CheckProgress>;

/** Prometheus activities; dependencies injected by the worker's composition root. */
export function createPrometheusActivities(deps: PrometheusActivityDeps) {
  const { prometheus, clock } = deps;

  /**
   * Polls `expr` until it has returned a non-empty vector continuously for `holdForMs` → `{ held: true }`,
   * or until `deadlineAtMs` → `{ held: false, reason }` (a failed check is a result, not an error). A dip
   * (empty result) restarts the hold. Heartbeats every poll; after a retry it resumes with the recorded
   * `since`. Throws only for infrastructure errors: unreachable/overloaded Prometheus (retryable), a bad
   * expression (`Rejected`, final). Read-only, so safe to retry.
   * Set `heartbeatTimeout` a few poll intervals long and `startToCloseTimeout` beyond the deadline.
   */
  async function prometheusAwaitCheck(input: PrometheusAwaitCheckInput): Promise<PrometheusAwaitCheckResult> {
    const runtime = currentActivityRuntime();
    const previous = CheckProgress.safeParse(runtime.heartbeatDetails);
    const resume =
      previous.success && previous.data.expr === input.expr
        ? { since: previous.data.since, polls: previous.data.polls }
        : NO_HOLD;
    const outcome = await withUpstreamFailures(() =>
      pollForHold<PromSample[]>({
        clock,
        runtime,
        holdForMs: input.holdForMs,
        deadlineAtMs: input.deadlineAtMs,
        pollIntervalMs: input.pollIntervalMs,
        resume,
        probe: async (signal) => {
          const r = await prometheus.query(input.expr, undefined, signal ? { signal } : {});
          const samples = r.resultType === 'vector' ? r.result : [];
          return { ok: samples.length > 0, value: samples };
        },
        details: (progress, samples): CheckProgress => ({
          expr: input.expr,
          since: progress.since,
          polls: progress.polls,
          lastValue: samples[0]?.value[1] ?? null,
        }),
      }),
    );
    if (outcome.held) {
      return { held: true, since: outcome.since, samples: outcome.last, polls: outcome.polls };
    }
    const lastValue = outcome.last[0]?.value[1] ?? null;
    const reason =
      outcome.since === null
        ? `no data for \`${input.expr}\` at the deadline`
        : `held for ${formatDuration(clock.now() - outcome.since)} of the required ${formatDuration(input.holdForMs)} when the deadline passed`;
    return { held: false, reason, lastValue, since: outcome.since, polls: outcome.polls };
  }

  /** One instant query, for diagnosis. Read-only; retryable on server trouble, final on a bad expression. */
  async function prometheusQuery(input: PrometheusQueryInput): Promise<PrometheusQueryResult> {
    const runtime = currentActivityRuntime();
    if (input.expr.trim() === '') {
      throw ApplicationFailure.create({
        type: ErrorType.Rejected,
        message: 'prometheusQuery: expr is empty',
        nonRetryable: true,
      });
    }
    const r = await withUpstreamFailures(() =>
      prometheus.query(input.expr, input.atMs, runtime.signal ? { signal: runtime.signal } : {}),
    );
    return { resultType: r.resultType, samples: r.result };
  }

  return { prometheusAwaitCheck, prometheusQuery };
}

export type PrometheusActivities = ReturnType<typeof createPrometheusActivities>;

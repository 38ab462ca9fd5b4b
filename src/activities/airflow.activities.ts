import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { AirflowClient, ClearedTaskInstance } from '../adapters/airflow';
import { isUpstreamError } from '../adapters/upstream-error';
import {
  isActiveTaskState,
  isFinishedDagRunState,
  isFinishedTaskState,
  type TaskState,
} from '../domain/airflow-state';
import { formatDuration } from '../domain/duration';
import { ErrorType } from '../domain/errors';
import { NO_HOLD } from '../domain/hold';
import { currentActivityRuntime, type ActivityRuntime } from './activity-runtime';
import { type SlowTask, slowestAgainstP95 } from '../domain/task-durations';
import type { Clock } from './clock';
import { pollForHold } from './hold-poller';
import { withUpstreamFailures } from './upstream-failure';

export interface AirflowActivityDeps {
  airflow: AirflowClient;
  clock: Clock;
  /** Default size of `airflowTaskLog`'s tail (32 KiB). */
  logTailBytes?: number;
}

// ---- inputs and results ----------------------------------------------------------------------------

export interface AirflowClearTaskInput {
  /** Idempotency key of this retry decision (e.g. `<incident>/<step>/<attempt>`): one key, at most one clear. */
  key: string;
  dagId: string;
  /** Default: the latest failed run of the DAG. Prefer passing it: after the clear that run is no longer failed. */
  dagRunId?: string;
  taskId: string;
  includeDownstream?: boolean;
  waitForCompletion: boolean;
  completionTimeoutMs: number;
  pollIntervalMs: number;
}

export interface AirflowClearTaskResult {
  dagRunId: string;
  /**
   * `cleared`: dry run then clear. `resumed`: an earlier attempt with this key had cleared; only waited.
   * `already_active`: the task was queued/running already, so it was not cleared again.
   * `already_succeeded`: nothing to retry.
   */
  action: 'cleared' | 'resumed' | 'already_active' | 'already_succeeded';
  /** What the dry run said the clear would affect. */
  preview: ClearedTaskInstance[];
  /** What the clear affected. */
  cleared: ClearedTaskInstance[];
  /** `success` after a completed wait; otherwise the last state seen. */
  state: TaskState | null;
  tryNumber: number | null;
}

export interface AirflowTriggerDagInput {
  dagId: string;
  /** Deterministic (e.g. `incidentflow__<incident>__<step>`), so a retried trigger finds its own run. */
  dagRunId: string;
  conf?: Record<string, unknown>;
  note?: string;
}

export interface AirflowTriggerDagResult {
  dagRunId: string;
  alreadyExisted: boolean;
  state: string | null;
}

export interface AirflowSetPausedInput {
  dagIds: string[];
  paused: boolean;
}

export interface DagPauseChange {
  dagId: string;
  /** State before this step: resume restores exactly this (unpause only the DAGs that were unpaused). */
  previous: boolean;
  current: boolean;
}

export interface AirflowSetPoolSlotsInput {
  pool: string;
  /** Absolute target. Exactly one of `slots` / `increaseBy`. */
  slots?: number;
  /** Relative target, computed from `previous`. */
  increaseBy?: number;
  /**
   * The pool size the workflow recorded before the change; returned as `previous` (with `slots`), and with
   * `increaseBy` the target is `previous + increaseBy` however often the activity runs (without it the
   * live size is read once per activity and kept across retries in the heartbeat details).
   */
  previous?: number;
}

export interface AirflowSetPoolSlotsResult {
  pool: string;
  previous: number;
  current: number;
  changed: boolean;
}

export interface AirflowTaskLogInput {
  dagId: string;
  /** Default: the latest failed run. */
  dagRunId?: string;
  taskId: string;
  /** Default: the task instance's latest try. */
  tryNumber?: number;
  mapIndex?: number;
  /** Tail size (default 32 KiB). */
  maxBytes?: number;
}

export interface AirflowTaskLogResult {
  dagRunId: string;
  tryNumber: number;
  content: string;
  truncated: boolean;
  totalBytes: number;
}

export interface AirflowAwaitStateInput {
  dagId: string;
  /** Default: the DAG's latest run when the activity first starts (kept across retries). */
  dagRunId?: string;
  /** When set, watch this task instance; otherwise the DAG run. */
  taskId?: string;
  mapIndex?: number;
  state: string;
  /** How long the state must be observed continuously (0 = once). */
  holdForMs: number;
  /** Give up this long after the first attempt started (kept across retries). */
  deadlineMs: number;
  pollIntervalMs: number;
}

export type AirflowAwaitStateResult =
  | { held: true; dagRunId: string; state: string; since: number; polls: number }
  | { held: false; dagRunId: string; reason: string; lastState: string | null; polls: number };

// ---- heartbeat details (resume state) ----------------------------------------------------------------

const Cleared = z.object({
  dagId: z.string(),
  dagRunId: z.string(),
  taskId: z.string(),
  mapIndex: z.number().nullable(),
  state: z.string().nullable(),
});

const ClearProgress = z.object({
  key: z.string(),
  /** `resolved`: run chosen, clear not confirmed. `cleared`/`waiting`: clear done, never repeat it. */
  phase: z.enum(['resolved', 'cleared', 'waiting']),
  dagRunId: z.string(),
  action: z.enum(['cleared', 'resumed', 'already_active', 'already_succeeded']).optional(),
  preview: z.array(Cleared).default([]),
  cleared: z.array(Cleared).default([]),
  waitStartedAt: z.number().optional(),
  polls: z.number().default(0),
  lastState: z.string().nullable().default(null),
});
type ClearProgress = z.infer<typeof ClearProgress>;

const PauseProgress = z.object({
  paused: z.boolean(),
  done: z.array(z.object({ dagId: z.string(), previous: z.boolean(), current: z.boolean() })),
});

const PoolProgress = z.object({ pool: z.string(), previous: z.number(), target: z.number() });

const AwaitProgress = z.object({
  dagRunId: z.string(),
  startedAt: z.number(),
  since: z.number().nullable(),
  polls: z.number(),
  lastState: z.string().nullable(),
});

function final(type: ErrorType, message: string, details?: unknown[]): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...(details ? { details } : {}) });
}

function callOpts(runtime: ActivityRuntime): { signal?: AbortSignal } {
  return runtime.signal ? { signal: runtime.signal } : {};
}

/** Airflow activities; dependencies injected by the worker's composition root. */
export function createAirflowActivities(deps: AirflowActivityDeps) {
  const { airflow, clock } = deps;

  async function latestFailedRunId(dagId: string, runtime: ActivityRuntime): Promise<string> {
    const run = await airflow.latestDagRun(dagId, { state: 'failed' }, callOpts(runtime));
    if (!run) throw final(ErrorType.NotFound, `DAG ${dagId} has no failed run`);
    return run.dagRunId;
  }

  /**
   * Retries one Airflow task: dry-run clear (the preview), real clear (`only_failed`, `reset_dag_runs`),
   * then, with `waitForCompletion`, polls the task instance until `success` (returns), `failed` /
   * `upstream_failed` / `skipped` / `removed` (non-retryable `OperationFailed`, state in the message) or
   * `completionTimeoutMs` after the clear (non-retryable `TimedOut`).
   *
   * Idempotent per `key`: the run id and "cleared" are heartbeated, and an attempt that finds the same
   * key in its heartbeat details waits instead of clearing again; a task found queued/running is never
   * cleared. Airflow errors: 5xx/network retry, 4xx final. Heartbeats every poll; honours cancellation.
   */
  async function airflowClearTask(input: AirflowClearTaskInput): Promise<AirflowClearTaskResult> {
    const runtime = currentActivityRuntime();
    const opts = callOpts(runtime);
    const parsed = ClearProgress.safeParse(runtime.heartbeatDetails);
    const previous = parsed.success && parsed.data.key === input.key ? parsed.data : undefined;

    return withUpstreamFailures(async () => {
      let progress: ClearProgress;
      if (previous && previous.phase !== 'resolved') {
        progress = { ...previous, action: 'resumed' };
      } else {
        const dagRunId =
          previous?.dagRunId ?? input.dagRunId ?? (await latestFailedRunId(input.dagId, runtime));
        progress = {
          key: input.key,
          phase: 'resolved',
          dagRunId,
          preview: [],
          cleared: [],
          polls: 0,
          lastState: null,
        };
        runtime.heartbeat(progress);

        const ti = await airflow.getTaskInstance(input.dagId, dagRunId, input.taskId, undefined, opts);
        if (isActiveTaskState(ti.state)) {
          // A clear (ours from a lost attempt, or someone else's) is already in flight: don't retry twice.
          progress = { ...progress, phase: 'waiting', action: 'already_active', lastState: ti.state };
        } else {
          const request = {
            dagRunId,
            taskIds: [input.taskId],
            onlyFailed: true,
            includeDownstream: input.includeDownstream ?? false,
          };
          const preview = await airflow.clearTaskInstances(input.dagId, { ...request, dryRun: true }, opts);
          if (!preview.taskInstances.some((t) => t.taskId === input.taskId)) {
            if (ti.state === 'success') {
              return {
                dagRunId,
                action: 'already_succeeded',
                preview: preview.taskInstances,
                cleared: [],
                state: ti.state,
                tryNumber: ti.tryNumber,
              };
            }
            throw final(
              ErrorType.Rejected,
              `task ${input.dagId}.${input.taskId} in run ${dagRunId} is ${ti.state ?? 'without state'}: nothing to clear`,
            );
          }
          const cleared = await airflow.clearTaskInstances(input.dagId, { ...request, dryRun: false }, opts);
          progress = {
            ...progress,
            phase: 'cleared',
            action: 'cleared',
            preview: preview.taskInstances,
            cleared: cleared.taskInstances,
            lastState: cleared.taskInstances.find((t) => t.taskId === input.taskId)?.state ?? null,
          };
        }
        progress.waitStartedAt = clock.now();
        runtime.heartbeat(progress);
      }

      const base = {
        dagRunId: progress.dagRunId,
        action: progress.action ?? 'cleared',
        preview: progress.preview as ClearedTaskInstance[],
        cleared: progress.cleared as ClearedTaskInstance[],
      };
      if (!input.waitForCompletion) {
        return { ...base, state: progress.lastState as TaskState | null, tryNumber: null };
      }

      const startedAt = progress.waitStartedAt ?? clock.now();
      const deadline = startedAt + input.completionTimeoutMs;
      for (;;) {
        const ti = await airflow.getTaskInstance(
          input.dagId,
          progress.dagRunId,
          input.taskId,
          undefined,
          opts,
        );
        progress = {
          ...progress,
          phase: 'waiting',
          waitStartedAt: startedAt,
          polls: progress.polls + 1,
          lastState: ti.state,
        };
        runtime.heartbeat(progress);
        if (ti.state === 'success') return { ...base, state: ti.state, tryNumber: ti.tryNumber };
        if (isFinishedTaskState(ti.state)) {
          throw final(
            ErrorType.OperationFailed,
            `task ${input.dagId}.${input.taskId} in run ${progress.dagRunId} ended ${ti.state} (try ${ti.tryNumber})`,
            [{ state: ti.state, tryNumber: ti.tryNumber, dagRunId: progress.dagRunId }],
          );
        }
        const remaining = deadline - clock.now();
        if (remaining <= 0) {
          throw final(
            ErrorType.TimedOut,
            `task ${input.dagId}.${input.taskId} in run ${progress.dagRunId} still ${ti.state ?? 'without state'} after ${formatDuration(input.completionTimeoutMs)}`,
            [{ state: ti.state, dagRunId: progress.dagRunId }],
          );
        }
        await clock.sleep(Math.min(Math.max(1, input.pollIntervalMs), remaining), runtime.signal);
      }
    });
  }

  /**
   * Triggers a DAG run with the caller's deterministic run id; an existing run with that id (409) counts
   * as done and is returned. Idempotent. Errors: 5xx/network retry, 4xx final (unknown DAG → NotFound).
   */
  async function airflowTriggerDag(input: AirflowTriggerDagInput): Promise<AirflowTriggerDagResult> {
    const runtime = currentActivityRuntime();
    return withUpstreamFailures(async () => {
      const { alreadyExists, run } = await airflow.triggerDagRun(
        input.dagId,
        {
          dagRunId: input.dagRunId,
          ...(input.conf !== undefined ? { conf: input.conf } : {}),
          ...(input.note !== undefined ? { note: input.note } : {}),
        },
        callOpts(runtime),
      );
      return { dagRunId: run.dagRunId, alreadyExisted: alreadyExists, state: run.state };
    });
  }

  /**
   * Pauses or unpauses DAGs and reports each DAG's state before the change. DAGs already in the wanted
   * state are not patched, so a retry changes nothing twice. The workflow reads the states first
   * (`airflowReadPaused`) and records which DAGs it changes before calling this, so a later step restores
   * exactly those. The `previous` values reported here survive retries only through heartbeat details: a
   * worker killed between a PATCH and its heartbeat reports that DAG as already paused.
   */
  async function airflowSetPaused(input: AirflowSetPausedInput): Promise<{ changes: DagPauseChange[] }> {
    const runtime = currentActivityRuntime();
    const opts = callOpts(runtime);
    const parsed = PauseProgress.safeParse(runtime.heartbeatDetails);
    const done = parsed.success && parsed.data.paused === input.paused ? [...parsed.data.done] : [];
    return withUpstreamFailures(async () => {
      for (const dagId of [...new Set(input.dagIds)]) {
        if (done.some((d) => d.dagId === dagId)) continue;
        const dag = await airflow.getDag(dagId, opts);
        const current =
          dag.isPaused === input.paused
            ? dag.isPaused
            : (await airflow.setPaused(dagId, input.paused, opts)).isPaused;
        done.push({ dagId, previous: dag.isPaused, current });
        runtime.heartbeat({ paused: input.paused, done });
      }
      const order = new Map(input.dagIds.map((d, i) => [d, i]));
      return {
        changes: done
          .filter((d) => order.has(d.dagId))
          .sort((a, b) => order.get(a.dagId)! - order.get(b.dagId)!),
      };
    });
  }

  /** Whether each DAG is paused, in the order given. Read-only. */
  async function airflowReadPaused(input: {
    dagIds: string[];
  }): Promise<{ states: Array<{ dagId: string; isPaused: boolean }> }> {
    const runtime = currentActivityRuntime();
    const opts = callOpts(runtime);
    return withUpstreamFailures(async () => {
      const states: Array<{ dagId: string; isPaused: boolean }> = [];
      for (const dagId of [...new Set(input.dagIds)]) {
        states.push({ dagId, isPaused: (await airflow.getDag(dagId, opts)).isPaused });
      }
      return { states };
    });
  }

  /** DAGs scheduled on datasets/assets that `dagId` produces. Read-only. */
  async function airflowDownstreamDags(input: { dagId: string }): Promise<{ dagIds: string[] }> {
    const runtime = currentActivityRuntime();
    return withUpstreamFailures(async () => ({
      dagIds: await airflow.downstreamDags(input.dagId, callOpts(runtime)),
    }));
  }

  /** A pool's slots (-1: unlimited). Read-only. */
  async function airflowReadPool(input: { pool: string }): Promise<{ pool: string; slots: number }> {
    const runtime = currentActivityRuntime();
    return withUpstreamFailures(async () => ({
      pool: input.pool,
      slots: (await airflow.getPool(input.pool, callOpts(runtime))).slots,
    }));
  }

  /**
   * Sets a pool's slots to `slots`, or to `previous + increaseBy`. The workflow reads the size with
   * `airflowReadPool`, records it and the target, and passes the absolute `slots` with that `previous`:
   * setting the size the pool already has is a no-op, so every retry converges on the recorded target.
   * `increaseBy` is kept for activities scheduled by older workflow code; there the target is computed
   * from `previous` or the first-read size kept in heartbeat details, which a worker that dies before its
   * heartbeat is sent loses. Returns `{ previous, current }` for the incident record and a later restore.
   */
  async function airflowSetPoolSlots(input: AirflowSetPoolSlotsInput): Promise<AirflowSetPoolSlotsResult> {
    const runtime = currentActivityRuntime();
    const opts = callOpts(runtime);
    if ((input.slots === undefined) === (input.increaseBy === undefined)) {
      throw final(ErrorType.Rejected, 'airflowSetPoolSlots: give exactly one of slots or increaseBy');
    }
    const parsed = PoolProgress.safeParse(runtime.heartbeatDetails);
    const recorded = parsed.success && parsed.data.pool === input.pool ? parsed.data : undefined;
    return withUpstreamFailures(async () => {
      const pool = await airflow.getPool(input.pool, opts);
      const previous = input.previous ?? recorded?.previous ?? pool.slots;
      const target = input.slots ?? previous + (input.increaseBy ?? 0);
      if (!Number.isInteger(target) || target < 0) {
        throw final(
          ErrorType.Rejected,
          `airflowSetPoolSlots: target ${target} slots for pool ${input.pool} is invalid`,
        );
      }
      runtime.heartbeat({ pool: input.pool, previous, target });
      if (pool.slots === target) return { pool: input.pool, previous, current: pool.slots, changed: false };
      const updated = await airflow.setPoolSlots(input.pool, target, opts);
      return { pool: input.pool, previous, current: updated.slots, changed: true };
    });
  }

  /**
   * The last `maxBytes` of a task's log, for diagnosis (log signatures). Read-only. When the try number
   * comes from the task instance and that try has no log (Airflow < 2.10 reports the *next* try for a
   * finished task), the previous try is read instead.
   */
  async function airflowTaskLog(input: AirflowTaskLogInput): Promise<AirflowTaskLogResult> {
    const runtime = currentActivityRuntime();
    const opts = callOpts(runtime);
    const tailBytes = input.maxBytes ?? deps.logTailBytes ?? 32 * 1024;
    return withUpstreamFailures(async () => {
      const dagRunId = input.dagRunId ?? (await latestFailedRunId(input.dagId, runtime));
      const logOpts = {
        ...opts,
        tailBytes,
        ...(input.mapIndex !== undefined ? { mapIndex: input.mapIndex } : {}),
      };
      if (input.tryNumber !== undefined) {
        const log = await airflow.getTaskLog(input.dagId, dagRunId, input.taskId, input.tryNumber, logOpts);
        return { dagRunId, tryNumber: input.tryNumber, ...log };
      }
      const ti = await airflow.getTaskInstance(input.dagId, dagRunId, input.taskId, input.mapIndex, opts);
      const tryNumber = Math.max(1, ti.tryNumber);
      try {
        const log = await airflow.getTaskLog(input.dagId, dagRunId, input.taskId, tryNumber, logOpts);
        return { dagRunId, tryNumber, ...log };
      } catch (err) {
        if (!(isUpstreamError(err) && err.type === ErrorType.NotFound && tryNumber > 1)) throw err;
        const log = await airflow.getTaskLog(input.dagId, dagRunId, input.taskId, tryNumber - 1, logOpts);
        return { dagRunId, tryNumber: tryNumber - 1, ...log };
      }
    });
  }

  /**
   * Check step on Airflow state: polls the DAG run (or one task instance) until it has shown `state`
   * continuously for `holdForMs` → `{ held: true }`; returns `{ held: false, reason }` at the deadline,
   * or early when the run/task finished in another state (it cannot change on its own). Heartbeats every
   * poll and resumes after a retry with the same run, start time and hold. Read-only.
   */
  async function airflowAwaitState(input: AirflowAwaitStateInput): Promise<AirflowAwaitStateResult> {
    const runtime = currentActivityRuntime();
    const opts = callOpts(runtime);
    const parsed = AwaitProgress.safeParse(runtime.heartbeatDetails);
    const previous = parsed.success ? parsed.data : undefined;
    return withUpstreamFailures(async () => {
      let dagRunId = previous?.dagRunId ?? input.dagRunId;
      if (dagRunId === undefined) {
        const latest = await airflow.latestDagRun(input.dagId, {}, opts);
        if (!latest) throw final(ErrorType.NotFound, `DAG ${input.dagId} has no runs`);
        dagRunId = latest.dagRunId;
      }
      const runId = dagRunId;
      const startedAt = previous?.startedAt ?? clock.now();
      const what = input.taskId ? `task ${input.dagId}.${input.taskId}` : `DAG run ${input.dagId}`;
      const outcome = await pollForHold<string | null>({
        clock,
        runtime,
        holdForMs: input.holdForMs,
        deadlineAtMs: startedAt + input.deadlineMs,
        pollIntervalMs: input.pollIntervalMs,
        resume: previous ? { since: previous.since, polls: previous.polls } : NO_HOLD,
        probe: async () => {
          if (input.taskId) {
            const ti = await airflow.getTaskInstance(input.dagId, runId, input.taskId, input.mapIndex, opts);
            return { ok: ti.state === input.state, value: ti.state, final: isFinishedTaskState(ti.state) };
          }
          const run = await airflow.getDagRun(input.dagId, runId, opts);
          return { ok: run.state === input.state, value: run.state, final: isFinishedDagRunState(run.state) };
        },
        details: (progress, state) => ({
          dagRunId: runId,
          startedAt,
          since: progress.since,
          polls: progress.polls,
          lastState: state,
        }),
      });
      if (outcome.held) {
        return {
          held: true,
          dagRunId: runId,
          state: input.state,
          since: outcome.since,
          polls: outcome.polls,
        };
      }
      const reason =
        outcome.reason === 'final'
          ? `${what} in run ${runId} finished ${outcome.last ?? 'without state'}, not ${input.state}`
          : `${what} in run ${runId} was ${outcome.last ?? 'without state'}, not ${input.state} for ${formatDuration(input.holdForMs)}, at the deadline`;
      return { held: false, dagRunId: runId, reason, lastState: outcome.last, polls: outcome.polls };
    });
  }

  /**
   * For an SLA miss: each task of the late run (the given one, else the DAG's newest) against its mean and
   * P95 over the last `historyRuns` successful runs, worst first. Read-only.
   */
  async function airflowSlowestTasks(input: {
    dagId: string;
    dagRunId?: string;
    historyRuns?: number;
  }): Promise<{ dagRunId: string; tasks: SlowTask[] }> {
    const runtime = currentActivityRuntime();
    const opts = callOpts(runtime);
    return withUpstreamFailures(async () => {
      const run = input.dagRunId
        ? await airflow.getDagRun(input.dagId, input.dagRunId, opts)
        : await airflow.latestDagRun(input.dagId, {}, opts);
      if (!run) throw final(ErrorType.NotFound, `airflowSlowestTasks: DAG ${input.dagId} has no runs`);
      const now = clock.now();
      const current = (await airflow.listTaskInstances(input.dagId, run.dagRunId, opts)).flatMap((t) => {
        if (t.durationSeconds !== null) return [{ taskId: t.taskId, seconds: t.durationSeconds }];
        if (t.startDate)
          return [{ taskId: t.taskId, seconds: Math.max(0, (now - Date.parse(t.startDate)) / 1000) }];
        return [];
      });
      const limit = Math.min(50, Math.max(3, input.historyRuns ?? 20));
      const { dagRuns } = await airflow.listDagRuns(
        input.dagId,
        { state: 'success', limit: limit + 1, orderBy: '-id' },
        opts,
      );
      const history: Record<string, number[]> = {};
      for (const earlier of dagRuns.filter((r) => r.dagRunId !== run.dagRunId).slice(0, limit)) {
        runtime.heartbeat({ dagRunId: earlier.dagRunId });
        for (const t of await airflow.listTaskInstances(input.dagId, earlier.dagRunId, opts)) {
          if (t.durationSeconds !== null) (history[t.taskId] ??= []).push(t.durationSeconds);
        }
      }
      return { dagRunId: run.dagRunId, tasks: slowestAgainstP95(current, history) };
    });
  }

  return {
    airflowClearTask,
    airflowTriggerDag,
    airflowSetPaused,
    airflowReadPaused,
    airflowDownstreamDags,
    airflowReadPool,
    airflowSetPoolSlots,
    airflowTaskLog,
    airflowAwaitState,
    airflowSlowestTasks,
  };
}

export type AirflowActivities = ReturnType<typeof createAirflowActivities>;

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type Kubectl, KubectlError, type RolloutUndoResult } from '../adapters/kubectl';
import { ErrorType, FINAL_ERROR_TYPES } from '../domain/errors';
import { chooseRollbackTarget, type RollbackRefusal } from '../domain/rollback';
import { type Clock, systemClock } from './clock';

export interface KubeActivitiesDeps {
  kubectl: Kubectl;
  /** Paces heartbeats while `kubeRolloutStatus` waits (default: the wall clock). */
  clock?: Clock;
  /** How often `kubeRolloutStatus` heartbeats (default 10 s; keep it below the activity's heartbeatTimeout). */
  heartbeatIntervalMs?: number;
}

export interface KubeTarget {
  namespace: string;
  deployment: string;
}

/** What `kubePrepareRollback` decided; the workflow records it and passes `targetReplicaSet` to the undo. */
export interface RollbackPlan {
  /** The ReplicaSet to restore: its identity survives the renumbering the undo causes. */
  targetReplicaSet: string;
  targetRevision: number;
  targetPodTemplateHash: string | null;
  /** Images of the target revision (e.g. `apache/airflow:v2.3.0`). */
  images: string[];
  currentRevision: number;
  currentReplicaSet: string | null;
  currentImages: string[];
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (unit tests, scripts)
  }
}

/** Runs `fn`, turning kubectl failures into ApplicationFailures of their ErrorType (final ones non-retryable). */
async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubectlError) {
      throw ApplicationFailure.create({
        type: err.type,
        message: err.message,
        nonRetryable: FINAL_ERROR_TYPES.includes(err.type),
      });
    }
    throw err;
  }
}

const REFUSAL_TYPE: Record<RollbackRefusal, ErrorType> = {
  paused: ErrorType.OperationFailed,
  no_history: ErrorType.NotFound,
  target_missing: ErrorType.NotFound,
  already_current: ErrorType.OperationFailed,
};

/**
 * Kubernetes activities over the kubectl runner. Every one is allowlist-checked by the runner (refusals
 * are non-retryable `NotAllowed`), passes the activity's cancellation signal to kubectl (cancelling kills
 * the process) and is safe to retry: see each activity.
 */
export function createKubeActivities(deps: KubeActivitiesDeps) {
  const { kubectl } = deps;
  const clock = deps.clock ?? systemClock;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 10_000;
  const signal = (): AbortSignal | undefined => activityContext()?.cancellationSignal;

  return {
    /**
     * Reads the deployment's rollout history and chooses the ReplicaSet to roll back to (the previous
     * revision, or `toRevision`). Read-only. Fails non-retryably when the deployment is paused
     * (`OperationFailed`), has no earlier revision or lacks `toRevision` (`NotFound`).
     */
    async kubePrepareRollback(input: KubeTarget & { toRevision?: number }): Promise<RollbackPlan> {
      return classified(async () => {
        const rollout = await kubectl.readRollout(input.namespace, input.deployment, { signal: signal() });
        const choice = chooseRollbackTarget(rollout, { toRevision: input.toRevision });
        if (!choice.ok) {
          throw ApplicationFailure.create({
            type: REFUSAL_TYPE[choice.reason],
            message: choice.message,
            nonRetryable: true,
          });
        }
        const current = rollout.revisions.find((r) => r.replicaSet === rollout.currentReplicaSet);
        return {
          targetReplicaSet: choice.target.replicaSet,
          targetRevision: choice.target.revision,
          targetPodTemplateHash: choice.target.podTemplateHash,
          images: choice.target.images,
          currentRevision: rollout.currentRevision,
          currentReplicaSet: rollout.currentReplicaSet,
          currentImages: current?.images ?? [],
        };
      });
    },

    /**
     * Rolls the deployment back to `targetReplicaSet` (from `kubePrepareRollback`), exactly once: when the
     * live template already is the target's it returns `skipped` without running kubectl, so a retry after
     * a crash (even one that happened after kubectl's PATCH) never rolls back twice.
     */
    async kubeRolloutUndo(input: KubeTarget & { targetReplicaSet: string }): Promise<RolloutUndoResult> {
      return classified(() =>
        kubectl.rolloutUndo(input.namespace, input.deployment, {
          targetReplicaSet: input.targetReplicaSet,
          signal: signal(),
        }),
      );
    },

    /**
     * Waits until the rollout is complete, heartbeating (with kubectl's latest progress line) while it
     * waits. `TimedOut` (retryable) after `timeoutMs`; `OperationFailed` when the progress deadline was
     * exceeded. Read-only, so retries are harmless.
     */
    async kubeRolloutStatus(input: KubeTarget & { timeoutMs: number }): Promise<{ message: string }> {
      const ctx = activityContext();
      let progress = '';
      const beat = (): void => ctx?.heartbeat({ progress });
      const stop = new AbortController();
      const heartbeats = (async () => {
        while (!stop.signal.aborted) {
          beat();
          await clock.sleep(heartbeatIntervalMs, stop.signal).catch(() => undefined);
        }
      })();
      try {
        return await classified(() =>
          kubectl.rolloutStatus(input.namespace, input.deployment, {
            timeoutMs: input.timeoutMs,
            signal: ctx?.cancellationSignal,
            onProgress: (line) => {
              progress = line;
            },
          }),
        );
      } finally {
        stop.abort();
        await heartbeats;
      }
    },

    /**
     * Restarts the deployment's pods, idempotently by `restartKey` (use e.g. the workflow id + step id): the
     * key is stored as a pod-template annotation, so the same key again starts no second rollout.
     */
    async kubeRolloutRestart(input: KubeTarget & { restartKey: string }): Promise<{ restarted: boolean }> {
      return classified(() =>
        kubectl.rolloutRestart(input.namespace, input.deployment, {
          restartKey: input.restartKey,
          signal: signal(),
        }),
      );
    },

    /** The deployment's desired replicas (`spec.replicas`). Read-only. */
    async kubeReadReplicas(input: KubeTarget): Promise<{ replicas: number }> {
      return classified(async () => ({
        replicas: await kubectl.currentReplicas(input.namespace, input.deployment, { signal: signal() }),
      }));
    },

    /**
     * Scales the deployment to `replicas`, or by `increaseBy` from its live size (exactly one of them).
     * `replicas` is idempotent (no kubectl call when the deployment already has that size): the workflow
     * reads the size with `kubeReadReplicas`, records it and the target, and passes only the absolute
     * target. `increaseBy` is kept for activities scheduled by older workflow code: a compare-and-set
     * against the size just read (kubectl's `--current-replicas`), which never races another writer, but a
     * retry after a success that was not reported increases again.
     */
    async kubeScale(
      input: KubeTarget & { replicas?: number; increaseBy?: number },
    ): Promise<{ previous: number; current: number }> {
      if ((input.replicas === undefined) === (input.increaseBy === undefined)) {
        throw ApplicationFailure.create({
          type: ErrorType.Rejected,
          message: 'kubeScale needs exactly one of replicas or increaseBy',
          nonRetryable: true,
        });
      }
      return classified(async () => {
        const s = signal();
        const previous = await kubectl.currentReplicas(input.namespace, input.deployment, { signal: s });
        const current = input.replicas ?? previous + (input.increaseBy ?? 0);
        if (current !== previous) {
          await kubectl.scale(input.namespace, input.deployment, {
            replicas: current,
            ...(input.increaseBy !== undefined ? { currentReplicas: previous } : {}),
            signal: s,
          });
        }
        return { previous, current };
      });
    },
  };
}

export type KubeActivities = ReturnType<typeof createKubeActivities>;

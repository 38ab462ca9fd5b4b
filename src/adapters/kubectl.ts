import { execFile } from 'node:child_process';
import { ErrorType } from '../domain/errors';
import { classifyKubectlFailure } from '../domain/kubectl-failure';
import {
  allowlistRefusal,
  Deployment,
  DeploymentName,
  type KubeAllowlist,
  labelSelectorString,
  NamespaceName,
  type ReplicaSet,
  ReplicaSetList,
} from '../domain/kubernetes';
import {
  buildRolloutState,
  ownedReplicaSets,
  REVISION_ANNOTATION,
  type RolloutState,
  templatesMatch,
} from '../domain/rollback';

/** Pod-template annotation that `rolloutRestart` sets; a new value starts a new rollout, the same value does nothing. */
export const RESTART_KEY_ANNOTATION = 'incidentflow.io/restart-key';

export interface KubectlOptions {
  /** The kubectl binary: `resolveTool('kubectl')` (`.tools/bin/kubectl`, or `KUBECTL_PATH`). */
  path: string;
  /** kubeconfig context to use (`--context`; `KUBE_CONTEXT`); kubectl's current context when absent. */
  context?: string;
  /** kubeconfig file (`--kubeconfig`); when absent kubectl uses `$KUBECONFIG` or `~/.kube/config`. */
  kubeconfig?: string;
  /** Deployments that may be touched; everything else is refused before kubectl runs. */
  allow: KubeAllowlist;
  /** Per-request timeout (`--request-timeout`), also the base of each run's deadline. */
  defaultTimeoutMs: number;
  /** Discovery/HTTP cache folder (`--cache-dir`); kubectl's default is `~/.kube/cache`. */
  cacheDir?: string;
}

/** Options every operation takes. */
export interface CallOptions {
  /** Aborting kills the kubectl process; the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A kubectl run that failed (kubectl exits 1 on any error), or a refusal before running. `type` is an
 * {@link ErrorType}; activities turn it into an `ApplicationFailure` of that type.
 */
export class KubectlError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly exitCode: number | null = null,
  ) {
    super(message);
    this.name = 'KubectlError';
  }
}

/** Outcome of {@link Kubectl.rolloutUndo}. */
export type RolloutUndoResult =
  | { skipped: true; reason: 'already at target'; replicaSet: string; revision: number }
  | {
      skipped: false;
      /** The deployment's revision before the undo. */
      fromRevision: number;
      fromReplicaSet: string | null;
      toReplicaSet: string;
      /** The `--to-revision` used: the target's revision at the moment of the undo (it gets a new number after). */
      toRevision: number;
    };

export interface Kubectl {
  /** The deployment's rollout state and revision history (`get deployment` + `get replicasets -l <selector>`). */
  readRollout(namespace: string, deployment: string, options?: CallOptions): Promise<RolloutState>;
  /**
   * Exactly-once-safe rollback to `targetReplicaSet`: re-reads the live state and, when the deployment's
   * template already is the target's (ignoring `pod-template-hash`), returns `skipped` without running
   * anything; else runs `kubectl rollout undo --to-revision=<the target's current revision>`. A retry after
   * a crash therefore never rolls back twice, although kubectl renumbers the restored revision.
   */
  rolloutUndo(
    namespace: string,
    deployment: string,
    args: { targetReplicaSet: string } & CallOptions,
  ): Promise<RolloutUndoResult>;
  /**
   * Waits for the rollout to finish (`kubectl rollout status --watch --timeout`). Rejects with `TimedOut`
   * when `timeoutMs` passes, `OperationFailed` when the progress deadline was exceeded. `onProgress`
   * receives kubectl's progress lines (informational only).
   */
  rolloutStatus(
    namespace: string,
    deployment: string,
    args: { timeoutMs: number; onProgress?: (line: string) => void } & CallOptions,
  ): Promise<{ message: string }>;
  /**
   * Idempotent restart: sets the pod-template annotation `incidentflow.io/restart-key=<restartKey>` with a
   * merge patch. A new key starts one rollout; the same key again changes nothing (no PATCH is sent).
   * Unlike `kubectl rollout restart`, which stamps the current time and so restarts again on every retry.
   */
  rolloutRestart(
    namespace: string,
    deployment: string,
    args: { restartKey: string } & CallOptions,
  ): Promise<{ restarted: boolean }>;
  /**
   * `kubectl scale deployment/x --replicas=N` through the `/scale` subresource (no new revision).
   * `currentReplicas` makes it a compare-and-set (kubectl's `--current-replicas`).
   */
  scale(
    namespace: string,
    deployment: string,
    args: { replicas: number; currentReplicas?: number } & CallOptions,
  ): Promise<void>;
  /** The deployment's desired replicas (`spec.replicas`). */
  currentReplicas(namespace: string, deployment: string, options?: CallOptions): Promise<number>;
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('kubectl call aborted');
}

/** Creates the kubectl runner. Every call checks the allowlist first and runs kubectl with an argument vector (no shell). */
export function createKubectl(options: KubectlOptions): Kubectl {
  const globalFlags = [
    `--request-timeout=${seconds(options.defaultTimeoutMs)}`,
    ...(options.context ? [`--context=${options.context}`] : []),
    ...(options.kubeconfig ? [`--kubeconfig=${options.kubeconfig}`] : []),
    ...(options.cacheDir ? [`--cache-dir=${options.cacheDir}`] : []),
  ];

  function assertAllowed(namespace: string, deployment: string): void {
    const ns = NamespaceName.safeParse(namespace);
    if (!ns.success)
      throw new KubectlError(ErrorType.NotAllowed, `namespace "${namespace}" ${ns.error.issues[0]?.message}`);
    const dep = DeploymentName.safeParse(deployment);
    if (!dep.success) {
      throw new KubectlError(
        ErrorType.NotAllowed,
        `deployment "${deployment}" ${dep.error.issues[0]?.message}`,
      );
    }
    const refusal = allowlistRefusal(options.allow, namespace, deployment);
    if (refusal) throw new KubectlError(ErrorType.NotAllowed, refusal);
  }

  function run(
    args: string[],
    call: { signal?: AbortSignal; deadlineMs?: number; onStdout?: (chunk: string) => void },
  ): Promise<string> {
    const deadlineMs = call.deadlineMs ?? options.defaultTimeoutMs * 2 + 5_000;
    return new Promise((resolve, reject) => {
      if (call.signal?.aborted) {
        reject(abortReason(call.signal));
        return;
      }
      const child = execFile(
        options.path,
        [...globalFlags, ...args],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
          timeout: deadlineMs,
          windowsHide: true,
          ...(call.signal ? { signal: call.signal } : {}),
        },
        (err, stdout, stderr) => {
          if (!err) {
            resolve(stdout);
            return;
          }
          if (call.signal?.aborted) {
            reject(abortReason(call.signal));
            return;
          }
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EACCES') {
            reject(
              new KubectlError(ErrorType.NotConfigured, `kubectl not runnable at ${options.path} (${code})`),
            );
            return;
          }
          if (err.killed) {
            reject(
              new KubectlError(
                ErrorType.TimedOut,
                `kubectl ${args[0]} did not finish within ${seconds(deadlineMs)}`,
              ),
            );
            return;
          }
          const failure = classifyKubectlFailure(stderr);
          reject(new KubectlError(failure.type, failure.message, typeof code === 'number' ? code : null));
        },
      );
      if (call.onStdout) child.stdout?.on('data', call.onStdout);
    });
  }

  async function getJson(args: string[], signal: AbortSignal | undefined): Promise<unknown> {
    const stdout = await run([...args, '-o', 'json'], { signal });
    try {
      return JSON.parse(stdout) as unknown;
    } catch {
      throw new KubectlError(
        ErrorType.OperationFailed,
        `kubectl ${args.slice(0, 2).join(' ')} printed invalid JSON`,
      );
    }
  }

  async function getDeployment(namespace: string, name: string, signal?: AbortSignal): Promise<Deployment> {
    const parsed = Deployment.safeParse(
      await getJson(['get', 'deployment', name, `--namespace=${namespace}`], signal),
    );
    if (!parsed.success) {
      throw new KubectlError(
        ErrorType.OperationFailed,
        `unexpected deployment JSON for ${namespace}/${name}`,
      );
    }
    return parsed.data;
  }

  async function readObjects(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<{ deployment: Deployment; replicaSets: ReplicaSet[] }> {
    const deployment = await getDeployment(namespace, name, signal);
    const selector = labelSelectorString(deployment.spec.selector);
    const list = ReplicaSetList.safeParse(
      await getJson(
        ['get', 'replicasets', `--namespace=${namespace}`, ...(selector ? [`--selector=${selector}`] : [])],
        signal,
      ),
    );
    if (!list.success) {
      throw new KubectlError(
        ErrorType.OperationFailed,
        `unexpected ReplicaSet list JSON for ${namespace}/${name}`,
      );
    }
    return { deployment, replicaSets: ownedReplicaSets(deployment, list.data.items) };
  }

  return {
    async readRollout(namespace, deployment, call = {}) {
      assertAllowed(namespace, deployment);
      const { deployment: dep, replicaSets } = await readObjects(namespace, deployment, call.signal);
      return buildRolloutState(dep, replicaSets);
    },

    async rolloutUndo(namespace, deployment, { targetReplicaSet, signal }) {
      assertAllowed(namespace, deployment);
      const { deployment: dep, replicaSets } = await readObjects(namespace, deployment, signal);
      const target = replicaSets.find((rs) => rs.metadata.name === targetReplicaSet);
      const revision = Number(target?.metadata.annotations?.[REVISION_ANNOTATION] ?? NaN);
      if (!target || !Number.isInteger(revision)) {
        throw new KubectlError(
          ErrorType.NotFound,
          `ReplicaSet "${targetReplicaSet}" is no longer in the rollout history of deployment "${deployment}"`,
        );
      }
      // Compare templates (the revision's identity), never revision numbers: the controller renumbers the
      // restored ReplicaSet, so after a crash-and-retry the target has a new, highest number.
      if (templatesMatch(target.spec.template, dep.spec.template)) {
        return { skipped: true, reason: 'already at target', replicaSet: targetReplicaSet, revision };
      }
      const state = buildRolloutState(dep, replicaSets);
      if (state.paused) {
        throw new KubectlError(
          ErrorType.OperationFailed,
          `deployment "${deployment}" is paused; resume it before rolling back`,
        );
      }
      await run(
        [
          'rollout',
          'undo',
          `deployment/${deployment}`,
          `--namespace=${namespace}`,
          `--to-revision=${revision}`,
        ],
        {
          signal,
        },
      );
      return {
        skipped: false,
        fromRevision: state.currentRevision,
        fromReplicaSet: state.currentReplicaSet,
        toReplicaSet: targetReplicaSet,
        toRevision: revision,
      };
    },

    async rolloutStatus(namespace, deployment, { timeoutMs, onProgress, signal }) {
      assertAllowed(namespace, deployment);
      let pending = '';
      let last = '';
      const onStdout = (chunk: string): void => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines.map((l) => l.trim()).filter((l) => l !== '')) {
          last = line;
          onProgress?.(line);
        }
      };
      await run(
        [
          'rollout',
          'status',
          `deployment/${deployment}`,
          `--namespace=${namespace}`,
          `--timeout=${seconds(timeoutMs)}`,
          '--watch=true',
        ],
        { signal, onStdout, deadlineMs: timeoutMs + options.defaultTimeoutMs + 10_000 },
      );
      if (pending.trim() !== '') onStdout('\n');
      return { message: last };
    },

    async rolloutRestart(namespace, deployment, { restartKey, signal }) {
      assertAllowed(namespace, deployment);
      const dep = await getDeployment(namespace, deployment, signal);
      if (dep.spec.template.metadata?.annotations?.[RESTART_KEY_ANNOTATION] === restartKey)
        return { restarted: false };
      const patch = {
        spec: { template: { metadata: { annotations: { [RESTART_KEY_ANNOTATION]: restartKey } } } },
      };
      await run(
        [
          'patch',
          'deployment',
          deployment,
          `--namespace=${namespace}`,
          '--type=merge',
          '-p',
          JSON.stringify(patch),
        ],
        { signal },
      );
      return { restarted: true };
    },

    async scale(namespace, deployment, { replicas, currentReplicas, signal }) {
      assertAllowed(namespace, deployment);
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw new KubectlError(
          ErrorType.Rejected,
          `replicas must be a non-negative integer, got ${replicas}`,
        );
      }
      await run(
        [
          'scale',
          `deployment/${deployment}`,
          `--namespace=${namespace}`,
          `--replicas=${replicas}`,
          ...(currentReplicas !== undefined ? [`--current-replicas=${currentReplicas}`] : []),
          `--timeout=${seconds(options.defaultTimeoutMs)}`,
        ],
        { signal, deadlineMs: options.defaultTimeoutMs * 3 + 5_000 },
      );
    },

    async currentReplicas(namespace, deployment, call = {}) {
      assertAllowed(namespace, deployment);
      const dep = await getDeployment(namespace, deployment, call.signal);
      return dep.spec.replicas ?? 1;
    },
  };
}

import type { Deployment, PodTemplateSpec, ReplicaSet } from './kubernetes';

/** Annotation holding a ReplicaSet's (and its deployment's) revision number. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** Label the deployment controller adds to a ReplicaSet's template; it names the template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** One revision of a deployment: one ReplicaSet it owns. */
export interface RolloutRevision {
  revision: number;
  replicaSet: string;
  /** The ReplicaSet's `pod-template-hash` label: identifies the pod template across renumbering. */
  podTemplateHash: string | null;
  images: string[];
  changeCause?: string;
  /** The ReplicaSet's creation time (ISO 8601). */
  createdAt: string;
  /** Desired replicas of that ReplicaSet right now (0 for an old revision after a rollout). */
  replicas: number;
}

/** A deployment's rollout state and history, as read from the API server. */
export interface RolloutState {
  namespace: string;
  deployment: string;
  generation: number;
  observedGeneration: number;
  paused: boolean;
  /** Desired replicas (`spec.replicas`, default 1). */
  replicas: number;
  /** The deployment's `deployment.kubernetes.io/revision` annotation (0 before the first sync). */
  currentRevision: number;
  /**
   * The ReplicaSet whose template equals the deployment's pod template (ignoring `pod-template-hash`),
   * as kubectl and the controller find it; else the one carrying the deployment's revision; null when the
   * controller has not created one yet.
   */
  currentReplicaSet: string | null;
  /** Owned ReplicaSets (controller ownerRef) with a revision, oldest revision first. */
  revisions: RolloutRevision[];
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** Deep equality of JSON values where an absent field equals null, `{}` and `[]` (Kubernetes' semantic equality). */
function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a && b && !Array.isArray(a) && !Array.isArray(b)) {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    return [...new Set([...Object.keys(x), ...Object.keys(y)])].every((k) => semanticEqual(x[k], y[k]));
  }
  return a === b;
}

function withoutHash(template: PodTemplateSpec): PodTemplateSpec {
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...template, metadata: { ...(template.metadata ?? {}), labels } };
}

/**
 * Whether two pod templates are the same template, ignoring the `pod-template-hash` label (kubectl's and
 * the controller's `EqualIgnoreHash`). This is the identity of a revision: revision numbers change when
 * an old ReplicaSet is rolled back to, its template does not.
 */
export function templatesMatch(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return semanticEqual(withoutHash(a), withoutHash(b));
}

function revisionOf(rs: ReplicaSet): number | null {
  const raw = rs.metadata.annotations?.[REVISION_ANNOTATION];
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

function imagesOf(template: PodTemplateSpec): string[] {
  return template.spec.containers.map((c) => c.image ?? '');
}

/** ReplicaSets the deployment controls (controller ownerRef with the deployment's uid), as kubectl selects them. */
export function ownedReplicaSets(deployment: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet[] {
  const uid = deployment.metadata.uid;
  return replicaSets.filter((rs) =>
    (rs.metadata.ownerReferences ?? []).some(
      (o) => o.controller === true && o.kind === 'Deployment' && (uid === undefined || o.uid === uid),
    ),
  );
}

/** Builds the rollout state of a deployment from it and the ReplicaSets matching its selector. Pure. */
export function buildRolloutState(deployment: Deployment, replicaSets: readonly ReplicaSet[]): RolloutState {
  const owned = ownedReplicaSets(deployment, replicaSets);
  const revisions: RolloutRevision[] = [];
  for (const rs of owned) {
    const revision = revisionOf(rs);
    if (revision === null) continue;
    const changeCause = rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
    revisions.push({
      revision,
      replicaSet: rs.metadata.name,
      podTemplateHash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? null,
      images: imagesOf(rs.spec.template),
      ...(changeCause !== undefined ? { changeCause } : {}),
      createdAt: rs.metadata.creationTimestamp ?? '',
      replicas: rs.spec.replicas ?? 0,
    });
  }
  revisions.sort((a, b) => a.revision - b.revision);
  const rawRevision = deployment.metadata.annotations?.[REVISION_ANNOTATION];
  const currentRevision = rawRevision !== undefined && /^\d+$/.test(rawRevision) ? Number(rawRevision) : 0;
  // Oldest first when several match, like kubectl's FindNewReplicaSet.
  const byAge = [...owned].sort((a, b) =>
    (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
  );
  const current =
    byAge.find((rs) => templatesMatch(rs.spec.template, deployment.spec.template))?.metadata.name ??
    revisions.find((r) => r.revision === currentRevision)?.replicaSet ??
    null;
  return {
    namespace: deployment.metadata.namespace ?? '',
    deployment: deployment.metadata.name,
    generation: deployment.metadata.generation ?? 0,
    observedGeneration: deployment.status?.observedGeneration ?? 0,
    paused: deployment.spec.paused === true,
    replicas: deployment.spec.replicas ?? 1,
    currentRevision,
    currentReplicaSet: current,
    revisions,
  };
}

/** Why a deployment cannot be rolled back. */
export type RollbackRefusal = 'paused' | 'no_history' | 'target_missing' | 'already_current';

export type RollbackChoice =
  { ok: true; target: RolloutRevision } | { ok: false; reason: RollbackRefusal; message: string };

/**
 * Chooses the ReplicaSet a rollback restores. Without `toRevision` (or with 0, as kubectl) it is the
 * previous revision: the highest revision that is not the current ReplicaSet, which in a settled
 * deployment is kubectl's "second-highest revision". Refuses a paused deployment (kubectl does too), a
 * deployment without an earlier revision, a revision not in the history, and the current revision itself.
 */
export function chooseRollbackTarget(
  rollout: RolloutState,
  options: { toRevision?: number } = {},
): RollbackChoice {
  const name = `deployment "${rollout.deployment}"`;
  if (rollout.paused) {
    return { ok: false, reason: 'paused', message: `${name} is paused; resume it before rolling back` };
  }
  const toRevision = options.toRevision ?? 0;
  if (toRevision !== 0) {
    const target = rollout.revisions.find((r) => r.revision === toRevision);
    if (!target) {
      const known = rollout.revisions.map((r) => r.revision).join(', ') || 'none';
      return {
        ok: false,
        reason: 'target_missing',
        message: `revision ${toRevision} of ${name} is not in its rollout history (revisions: ${known})`,
      };
    }
    if (target.replicaSet === rollout.currentReplicaSet) {
      return {
        ok: false,
        reason: 'already_current',
        message: `revision ${toRevision} is already the current revision of ${name}`,
      };
    }
    return { ok: true, target };
  }
  const previous = rollout.revisions.filter((r) => r.replicaSet !== rollout.currentReplicaSet).at(-1);
  if (!previous) {
    return { ok: false, reason: 'no_history', message: `${name} has no previous revision to roll back to` };
  }
  return { ok: true, target: previous };
}

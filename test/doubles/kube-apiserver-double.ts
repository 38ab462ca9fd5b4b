/**
 * A Kubernetes API server test double that the real kubectl (1.32–1.37) talks to over plain http.
 *
 * Serves what kubectl asks for (checked with `kubectl -v=8`): `/version`, discovery (aggregated
 * `apidiscovery.k8s.io/v2` and `v2beta1` chosen by the `Accept` header, or the legacy `/api`, `/apis`,
 * `/api/v1`, `/apis/apps/v1` documents), apps/v1 Deployments (get, list, watch, JSON/merge/strategic
 * merge PATCH, PUT, the `/scale` and `/status` subresources) and ReplicaSets (get, list with
 * `labelSelector`, watch), and an empty pod list.
 *
 * It simulates the deployment controller (asynchronously, as a real one does): a pod-template change
 * creates a ReplicaSet, or re-uses the one whose template matches and gives it the next, highest revision
 * (its old number disappears and is kept in `deployment.kubernetes.io/revision-history`), copies the
 * deployment's annotations to it, scales old ReplicaSets down and marks the rollout complete
 * (observedGeneration, updated/available replicas, conditions). Per deployment the rollout can instead
 * take a while, stall, or exceed its progress deadline.
 *
 * Every request is recorded (method, path, query, body); `onRequest` hooks run before a request is
 * handled (and are awaited), so a test can act the instant a rollback PATCH arrives.
 */
import { createHash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  applyJsonPatch,
  applyMergePatch,
  clone,
  isObject,
  type Json,
  type JsonObject,
  looseEqual,
  matchesFields,
  matchesLabels,
  PatchError,
  strategicMerge,
} from './kube-patch';

/** One request as the double received it. */
export interface KubeRequest {
  method: string;
  /** Path without the query string, e.g. `/apis/apps/v1/namespaces/ns/deployments/web`. */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  accept: string | undefined;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  rawBody: string;
}

/** How the simulated controller carries out a rollout of a new pod template. */
export type RolloutBehaviour =
  /** Completes the rollout, after `progressMs` (default 0: as soon as the controller syncs). */
  | { mode: 'complete'; progressMs?: number }
  /** One new replica is created and never becomes available: `rollout status` waits forever. */
  | { mode: 'stall' }
  /** Like stall, with condition Progressing=False, reason ProgressDeadlineExceeded. */
  | { mode: 'fail' };

export interface SeedRevision {
  image: string;
  /** Recorded as the `kubernetes.io/change-cause` annotation. */
  changeCause?: string;
}

export interface SeedDeployment {
  namespace: string;
  name: string;
  /** Oldest first; revision i+1 runs `revisions[i].image`; the last one is current. */
  revisions: SeedRevision[];
  replicas?: number;
  paused?: boolean;
  /** Container name (default: the deployment name). */
  container?: string;
}

export interface KubeApiServerDoubleOptions {
  /** Reported by `/version` (the gcloud kubectl dispatcher picks its kubectl by it). Default 1.32. */
  version?: { major: string; minor: string };
  /** Serve only the legacy discovery documents, ignoring aggregated-discovery `Accept` types. */
  discovery?: 'aggregated' | 'legacy';
}

export interface KubeApiServerDouble {
  url: string;
  /** Every request received, in order (discovery included). */
  requests: KubeRequest[];
  /** Runs `fn` (awaited) for each request before it is handled. Returns a function that removes it. */
  onRequest(fn: (request: KubeRequest) => void | Promise<void>): () => void;
  /**
   * Answers the next request matching `match` with a `Status` failure instead of handling it, or, with
   * `afterHandling`, after handling it: the write is applied but the client never learns it (a lost
   * response, as when the connection drops after the API server committed the change).
   */
  failNext(
    match: (request: KubeRequest) => boolean,
    failure: { code: number; reason: string; message: string },
    options?: { afterHandling?: boolean },
  ): void;
  /** Number of PATCH requests to the deployment itself (not its subresources). */
  patchCount(deployment: string, namespace?: string): number;
  /** Builds a realistic rollout history through the simulated controller; returns the deployment. */
  seedDeployment(seed: SeedDeployment): JsonObject;
  /** Changes a deployment's image as a `kubectl set image` would (a new rollout). */
  setImage(namespace: string, name: string, image: string, changeCause?: string): void;
  setRolloutBehaviour(namespace: string, name: string, behaviour: RolloutBehaviour): void;
  /**
   * Holds the deployment controller: writes are stored but no ReplicaSet is created or renumbered until
   * `resumeController()` (the window between kubectl's PATCH and the controller's reaction).
   */
  pauseController(): void;
  resumeController(): void;
  /** Number of watch streams currently open (a killed kubectl closes its watch). */
  openWatches(): number;
  deployment(namespace: string, name: string): JsonObject | undefined;
  /** ReplicaSets owned by the deployment, oldest revision first. */
  replicaSets(namespace: string, name: string): JsonObject[];
  /** `{ revision, replicaSet, image }` of each owned ReplicaSet, oldest revision first. */
  history(namespace: string, name: string): Array<{ revision: number; replicaSet: string; image: string }>;
  /** Writes a kubeconfig (context `kube-double`, no auth) for this server into `dir`; returns its path. */
  writeKubeconfig(dir: string, context?: string): string;
  close(): Promise<void>;
}

const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const HASH_LABEL = 'pod-template-hash';
/** Deployment annotations the controller does not copy onto ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
]);

type Resource = 'deployments' | 'replicasets';
const KIND: Record<Resource, string> = { deployments: 'Deployment', replicasets: 'ReplicaSet' };

// --- discovery documents -------------------------------------------------------------------------

interface ResourceInfo {
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories?: string[];
  subresources: Array<{ name: string; group: string; version: string; kind: string; verbs: string[] }>;
}
const RW_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUB_VERBS = ['get', 'patch', 'update'];
const CORE: ResourceInfo[] = [
  {
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: [{ name: 'status', group: '', version: 'v1', kind: 'Pod', verbs: SUB_VERBS }],
  },
  {
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    subresources: [],
  },
];
const APPS: ResourceInfo[] = (['deployments', 'replicasets'] as const).map((resource) => ({
  resource,
  singular: resource.slice(0, -1),
  kind: KIND[resource],
  namespaced: true,
  shortNames: [resource === 'deployments' ? 'deploy' : 'rs'],
  categories: ['all'],
  subresources: [
    { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: SUB_VERBS },
    { name: 'status', group: 'apps', version: 'v1', kind: KIND[resource], verbs: SUB_VERBS },
  ],
}));

function aggregatedGroup(name: string | undefined, resources: ResourceInfo[]): JsonObject {
  return {
    metadata: name ? { name, creationTimestamp: null } : { creationTimestamp: null },
    versions: [
      {
        version: 'v1',
        resources: resources.map((r) => ({
          resource: r.resource,
          responseKind: { group: '', version: '', kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singular,
          verbs: RW_VERBS,
          shortNames: r.shortNames,
          ...(r.categories ? { categories: r.categories } : {}),
          ...(r.subresources.length > 0
            ? {
                subresources: r.subresources.map((s) => ({
                  subresource: s.name,
                  responseKind: { group: s.group, version: s.version, kind: s.kind },
                  verbs: s.verbs,
                })),
              }
            : {}),
        })),
        freshness: 'Current',
      },
    ],
  };
}

function resourceList(groupVersion: string, resources: ResourceInfo[]): JsonObject {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources.flatMap((r) => [
      {
        name: r.resource,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: RW_VERBS,
        shortNames: r.shortNames,
        ...(r.categories ? { categories: r.categories } : {}),
      },
      ...r.subresources.map((s) => ({
        name: `${r.resource}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(s.group !== '' && s.group !== groupVersion.split('/')[0]
          ? { group: s.group, version: s.version }
          : {}),
        kind: s.kind,
        verbs: s.verbs,
      })),
    ]),
  };
}

const APPS_GROUP = {
  name: 'apps',
  versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
};

/** The aggregated-discovery version the client prefers, if any, from its Accept header. */
function aggregatedVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = part.split(';').map((p) => p.trim());
    if (!params.includes('g=apidiscovery.k8s.io') || !params.includes('as=APIGroupDiscoveryList')) continue;
    if (params.includes('v=v2')) return 'v2';
    if (params.includes('v=v2beta1')) return 'v2beta1';
  }
  return undefined;
}

// --- helpers -------------------------------------------------------------------------------------

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** pod-template-hash: FNV-1a-32 of the template rendered with kubernetes' "safe" alphabet, as the controller does. */
function templateHash(template: Json): string {
  const bytes = createHash('sha256')
    .update(JSON.stringify(withoutHash(template)))
    .digest();
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...String(h)].map((c) => alphabet[c.charCodeAt(0) % alphabet.length]).join('');
}

function withoutHash(template: Json): Json {
  const copy = clone(template);
  if (isObject(copy) && isObject(copy.metadata) && isObject(copy.metadata.labels)) {
    delete copy.metadata.labels[HASH_LABEL];
  }
  return copy;
}

function meta(obj: JsonObject): JsonObject {
  return obj.metadata as JsonObject;
}
function spec(obj: JsonObject): JsonObject {
  return obj.spec as JsonObject;
}
function annotations(obj: JsonObject): Record<string, string> {
  const m = meta(obj);
  if (!isObject(m.annotations)) m.annotations = {};
  return m.annotations as Record<string, string>;
}
function revisionOf(rs: JsonObject): number {
  return Number(annotations(rs)[REVISION] ?? 0);
}
function replicasOf(obj: JsonObject): number {
  return typeof spec(obj).replicas === 'number' ? (spec(obj).replicas as number) : 1;
}
function imageOf(template: Json): string {
  const podSpec = isObject(template) && isObject(template.spec) ? template.spec : {};
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
  return containers.map((c) => (isObject(c) ? (typeof c.image === 'string' ? c.image : '') : '')).join(',');
}
function percentOf(value: Json | undefined, of: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const pct = typeof value === 'string' && value.endsWith('%') ? Number(value.slice(0, -1)) : 25;
  return roundUp ? Math.ceil((of * pct) / 100) : Math.floor((of * pct) / 100);
}

function podTemplate(app: string, container: string, image: string): JsonObject {
  return {
    metadata: { labels: { app } },
    spec: {
      containers: [
        {
          name: container,
          image,
          imagePullPolicy: 'IfNotPresent',
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
    },
  };
}

class HttpFailure extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }
}

function notFound(resource: Resource, name: string): HttpFailure {
  return new HttpFailure(404, 'NotFound', `${resource}.apps "${name}" not found`, {
    name,
    group: 'apps',
    kind: resource,
  });
}

function statusBody(f: { code: number; reason: string; message: string; details?: JsonObject }): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: f.message,
    reason: f.reason,
    ...(f.details ? { details: f.details } : {}),
    code: f.code,
  };
}

// --- the server ----------------------------------------------------------------------------------

interface Watcher {
  resource: Resource;
  namespace: string | undefined;
  labelSelector: string | undefined;
  fieldSelector: string | undefined;
  res: ServerResponse;
}

interface Event {
  rv: number;
  resource: Resource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: JsonObject;
}

/** Starts the double on 127.0.0.1, port 0. */
export async function startKubeApiServerDouble(
  options: KubeApiServerDoubleOptions = {},
): Promise<KubeApiServerDouble> {
  const version = options.version ?? { major: '1', minor: '32' };
  const requests: KubeRequest[] = [];
  const hooks = new Set<(r: KubeRequest) => void | Promise<void>>();
  const failures: Array<{
    match: (r: KubeRequest) => boolean;
    failure: { code: number; reason: string; message: string };
    afterHandling: boolean;
  }> = [];
  const objects = new Map<string, JsonObject>();
  const events: Event[] = [];
  const watchers = new Set<Watcher>();
  const behaviours = new Map<string, RolloutBehaviour>();
  const progressUntil = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let rv = 1000;
  let closed = false;

  const key = (resource: Resource, ns: string, name: string): string => `${resource}/${ns}/${name}`;
  const get = (resource: Resource, ns: string, name: string): JsonObject | undefined => {
    const obj = objects.get(key(resource, ns, name));
    return obj ? clone(obj) : undefined;
  };
  const list = (resource: Resource, ns: string | undefined): JsonObject[] =>
    [...objects.entries()]
      .filter(([k]) => k.startsWith(`${resource}/${ns === undefined ? '' : `${ns}/`}`))
      .map(([, v]) => clone(v));

  function emit(event: Event): void {
    events.push(event);
    for (const w of watchers) {
      if (w.resource !== event.resource || !watchMatches(w, event.object)) continue;
      w.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
  }

  function watchMatches(w: Omit<Watcher, 'res'>, obj: JsonObject): boolean {
    const m = meta(obj);
    return (
      (w.namespace === undefined || m.namespace === w.namespace) &&
      matchesLabels(m.labels as Record<string, string>, w.labelSelector) &&
      matchesFields({ name: m.name as string, namespace: m.namespace as string }, w.fieldSelector)
    );
  }

  /** Stores `obj` unless nothing changed; bumps resourceVersion and notifies watchers. */
  function put(resource: Resource, obj: JsonObject): JsonObject {
    const m = meta(obj);
    const k = key(resource, m.namespace as string, m.name as string);
    const before = objects.get(k);
    if (before) {
      const { resourceVersion: _a, ...b } = meta(before);
      const { resourceVersion: _b, ...a } = m;
      if (looseEqual({ ...before, metadata: b }, { ...obj, metadata: a })) return clone(before);
    }
    m.resourceVersion = String(++rv);
    objects.set(k, clone(obj));
    emit({ rv, resource, type: before ? 'MODIFIED' : 'ADDED', object: clone(obj) });
    return clone(obj);
  }

  function remove(resource: Resource, obj: JsonObject): void {
    const m = meta(obj);
    objects.delete(key(resource, m.namespace as string, m.name as string));
    const gone = clone(obj);
    meta(gone).resourceVersion = String(++rv);
    emit({ rv, resource, type: 'DELETED', object: gone });
  }

  function owned(dep: JsonObject): JsonObject[] {
    const uid = meta(dep).uid;
    return list('replicasets', meta(dep).namespace as string)
      .filter((rs) =>
        (meta(rs).ownerReferences as JsonObject[] | undefined)?.some(
          (o) => o.controller === true && o.uid === uid,
        ),
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
  }

  function scaleReplicaSet(rs: JsonObject, replicas: number, available: boolean): JsonObject {
    if (spec(rs).replicas !== replicas) {
      spec(rs).replicas = replicas;
      meta(rs).generation = Number(meta(rs).generation ?? 1) + 1;
    }
    const ready = available ? replicas : 0;
    rs.status = {
      replicas,
      ...(replicas > 0 ? { fullyLabeledReplicas: replicas } : {}),
      ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
      observedGeneration: meta(rs).generation as number,
    };
    return rs;
  }

  /** One pass of the deployment controller. */
  function sync(ns: string, name: string, at = Date.now()): void {
    const dep = get('deployments', ns, name);
    if (!dep) return;
    const depKey = `${ns}/${name}`;
    const d = spec(dep);
    const desired = replicasOf(dep);
    const template = d.template as JsonObject;
    const rsets = owned(dep);
    let current = rsets.find((rs) =>
      looseEqual(withoutHash(spec(rs).template as Json), withoutHash(template)),
    );
    const status = isObject(dep.status) ? dep.status : {};
    dep.status = status;
    status.observedGeneration = meta(dep).generation as number;
    const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as JsonObject[];
    const setCondition = (type: string, value: string, reason: string, message: string): void => {
      const existing = conditions.find((c) => c.type === type);
      const now = timestamp(at);
      const next: JsonObject = {
        type,
        status: value,
        lastUpdateTime: now,
        lastTransitionTime:
          existing && existing.status === value ? (existing.lastTransitionTime as string) : now,
        reason,
        message,
      };
      if (existing) Object.assign(existing, next);
      else conditions.push(next);
      status.conditions = conditions;
    };

    if (d.paused === true) {
      if (current) put('replicasets', scaleReplicaSet(current, desired, true));
      setCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused');
      put('deployments', dep);
      return;
    }

    const maxRevision = Math.max(0, ...rsets.map(revisionOf));
    let created = false;
    let renumbered = false;
    if (!current) {
      const hash = templateHash(template);
      const rsTemplate = clone(template);
      const tmeta = isObject(rsTemplate.metadata) ? rsTemplate.metadata : {};
      rsTemplate.metadata = tmeta;
      tmeta.labels = { ...((tmeta.labels as JsonObject | undefined) ?? {}), [HASH_LABEL]: hash };
      const selector = clone((d.selector as JsonObject | undefined) ?? {});
      selector.matchLabels = {
        ...((selector.matchLabels as JsonObject | undefined) ?? {}),
        [HASH_LABEL]: hash,
      };
      current = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`,
          namespace: ns,
          uid: randomUUID(),
          generation: 1,
          creationTimestamp: timestamp(at),
          labels: clone(tmeta.labels),
          annotations: { [REVISION]: String(maxRevision + 1) },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name,
              uid: meta(dep).uid as string,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { replicas: 0, selector, template: rsTemplate },
        status: { replicas: 0, observedGeneration: 1 },
      };
      created = true;
    } else if (revisionOf(current) < maxRevision) {
      const a = annotations(current);
      const history = a[REVISION_HISTORY] ? a[REVISION_HISTORY].split(',') : [];
      a[REVISION_HISTORY] = [...history, String(revisionOf(current))].join(',');
      a[REVISION] = String(maxRevision + 1);
      renumbered = true;
    }
    const rsAnnotations = annotations(current);
    for (const [k, v] of Object.entries(annotations(dep))) if (!NOT_COPIED.has(k)) rsAnnotations[k] = v;
    const strategy =
      isObject(d.strategy) && isObject(d.strategy.rollingUpdate) ? d.strategy.rollingUpdate : {};
    rsAnnotations[DESIRED_REPLICAS] = String(desired);
    rsAnnotations[MAX_REPLICAS] = String(desired + percentOf(strategy.maxSurge, desired, true));
    annotations(dep)[REVISION] = rsAnnotations[REVISION]!;

    const currentName = meta(current).name as string;
    const olds = rsets.filter((rs) => meta(rs).name !== currentName);
    const rolling = created || renumbered || olds.some((rs) => replicasOf(rs) > 0);
    const behaviour = behaviours.get(depKey) ?? { mode: 'complete' };
    if (
      rolling &&
      behaviour.mode === 'complete' &&
      (behaviour.progressMs ?? 0) > 0 &&
      !progressUntil.has(depKey)
    ) {
      progressUntil.set(depKey, at + (behaviour.progressMs ?? 0));
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!closed) scheduleSync(ns, name);
      }, behaviour.progressMs);
      timers.add(timer);
    }
    const until = progressUntil.get(depKey);
    const finished = !rolling || (behaviour.mode === 'complete' && (until === undefined || at >= until));
    if (finished) {
      progressUntil.delete(depKey);
      put('replicasets', scaleReplicaSet(current, desired, true));
      for (const old of olds) put('replicasets', scaleReplicaSet(old, 0, false));
      Object.assign(status, {
        replicas: desired,
        updatedReplicas: desired,
        readyReplicas: desired,
        availableReplicas: desired,
      });
      delete status.unavailableReplicas;
      setCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.');
      setCondition(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${currentName}" has successfully progressed.`,
      );
    } else {
      // Mid-rollout: new pods created but not yet available; old ones still serving.
      const updated = behaviour.mode === 'complete' ? desired : Math.min(1, desired);
      const oldReplicas = olds.reduce((n, rs) => n + replicasOf(rs), 0);
      put('replicasets', scaleReplicaSet(current, updated, false));
      Object.assign(status, {
        replicas: updated + oldReplicas,
        updatedReplicas: updated,
        readyReplicas: oldReplicas,
        availableReplicas: oldReplicas,
        unavailableReplicas: Math.max(0, desired - oldReplicas),
      });
      if (behaviour.mode === 'fail') {
        setCondition(
          'Progressing',
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${currentName}" has timed out progressing.`,
        );
      } else {
        setCondition(
          'Progressing',
          'True',
          'ReplicaSetUpdated',
          `ReplicaSet "${currentName}" is progressing.`,
        );
      }
    }
    put('deployments', dep);

    // revisionHistoryLimit: drop the oldest scaled-down ReplicaSets beyond the limit.
    const limit = typeof d.revisionHistoryLimit === 'number' ? d.revisionHistoryLimit : 10;
    const idle = owned(dep).filter((rs) => meta(rs).name !== currentName && replicasOf(rs) === 0);
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) remove('replicasets', rs);
  }

  let controllerPaused = false;
  const heldSyncs = new Set<string>();

  function scheduleSync(ns: string, name: string): void {
    if (controllerPaused) {
      heldSyncs.add(`${ns}/${name}`);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) sync(ns, name);
    }, 0);
    timers.add(timer);
  }

  /** Stores a new version of a deployment as the API server would (generation, no-op writes, dry run). */
  function commitDeployment(before: JsonObject, after: JsonObject, dryRun: boolean): JsonObject {
    const m = meta(before);
    const name = m.name as string;
    const next = clone(after);
    next.apiVersion = 'apps/v1';
    next.kind = 'Deployment';
    const nm = isObject(next.metadata) ? next.metadata : {};
    next.metadata = nm;
    if (nm.resourceVersion !== undefined && nm.resourceVersion !== m.resourceVersion) {
      throw new HttpFailure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    for (const field of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'resourceVersion']) {
      if (m[field] === undefined) delete nm[field];
      else nm[field] = m[field];
    }
    next.status = clone(before.status ?? {});
    const nextSpec = next.spec;
    if (!isObject(nextSpec) || !isObject(nextSpec.template)) {
      throw new HttpFailure(
        422,
        'Invalid',
        `Deployment.apps "${name}" is invalid: spec.template: Required value`,
      );
    }
    const selector = isObject(nextSpec.selector) ? nextSpec.selector : {};
    const labels = (isObject(nextSpec.template.metadata) ? nextSpec.template.metadata.labels : undefined) as
      Record<string, string> | undefined;
    const wanted = (selector.matchLabels ?? {}) as Record<string, string>;
    if (Object.entries(wanted).some(([k, v]) => labels?.[k] !== v)) {
      throw new HttpFailure(
        422,
        'Invalid',
        `Deployment.apps "${name}" is invalid: spec.template.metadata.labels: Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\``,
      );
    }
    const specChanged = !looseEqual(before.spec, next.spec);
    if (specChanged) nm.generation = Number(m.generation ?? 1) + 1;
    if (dryRun) return next;
    const stored = put('deployments', next);
    if (specChanged) scheduleSync(m.namespace as string, m.name as string);
    return stored;
  }

  function scaleOf(dep: JsonObject): JsonObject {
    const m = meta(dep);
    const matchLabels = (
      isObject(spec(dep).selector) ? (spec(dep).selector as JsonObject).matchLabels : {}
    ) as Record<string, string>;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: m.name as string,
        namespace: m.namespace as string,
        uid: m.uid as string,
        resourceVersion: m.resourceVersion as string,
        creationTimestamp: m.creationTimestamp as string,
      },
      spec: { replicas: replicasOf(dep) },
      status: {
        replicas: isObject(dep.status) && typeof dep.status.replicas === 'number' ? dep.status.replicas : 0,
        selector: Object.entries(matchLabels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      },
    };
  }

  function applyPatch(target: JsonObject, request: KubeRequest): JsonObject {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody);
    } catch {
      throw new HttpFailure(400, 'BadRequest', 'the patch is not valid JSON');
    }
    const type = (request.contentType ?? '').split(';')[0]!.trim();
    try {
      switch (type) {
        case 'application/json-patch+json':
          return applyJsonPatch(target, body);
        case 'application/merge-patch+json':
          return applyMergePatch(target, body as Json) as JsonObject;
        case 'application/strategic-merge-patch+json':
          return strategicMerge(target, body as Json) as JsonObject;
        default:
          throw new PatchError(
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
            415,
          );
      }
    } catch (err) {
      if (err instanceof PatchError) {
        throw new HttpFailure(err.code, err.code === 415 ? 'UnsupportedMediaType' : 'Invalid', err.message);
      }
      throw err;
    }
  }

  /** Namespaces exist once something was seeded in them (plus `default`). */
  function namespaceObject(name: string): JsonObject {
    const exists = name === 'default' || [...objects.keys()].some((k) => k.split('/')[1] === name);
    if (!exists) {
      throw new HttpFailure(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' });
    }
    return {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
  }

  function listBody(resource: Resource | 'pods', items: JsonObject[]): JsonObject {
    return {
      kind: resource === 'pods' ? 'PodList' : `${KIND[resource]}List`,
      apiVersion: resource === 'pods' ? 'v1' : 'apps/v1',
      metadata: { resourceVersion: String(rv) },
      items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
    };
  }

  function startWatch(
    resource: Resource,
    namespace: string | undefined,
    request: KubeRequest,
    res: ServerResponse,
  ): void {
    const w: Watcher = {
      resource,
      namespace,
      labelSelector: request.query.labelSelector,
      fieldSelector: request.query.fieldSelector,
      res,
    };
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const send = (type: string, object: JsonObject): boolean =>
      res.write(`${JSON.stringify({ type, object })}\n`);
    const from = request.query.resourceVersion;
    if (request.query.sendInitialEvents === 'true' || from === undefined || from === '' || from === '0') {
      for (const obj of list(resource, namespace).filter((o) => watchMatches(w, o))) send('ADDED', obj);
      if (request.query.sendInitialEvents === 'true') {
        send('BOOKMARK', {
          kind: KIND[resource],
          apiVersion: 'apps/v1',
          metadata: { resourceVersion: String(rv), annotations: { 'k8s.io/initial-events-end': 'true' } },
        });
      }
    } else {
      for (const e of events) {
        if (e.rv > Number(from) && e.resource === resource && watchMatches(w, e.object))
          send(e.type, e.object);
      }
    }
    watchers.add(w);
    const end = (): void => {
      watchers.delete(w);
      clearTimeout(timer);
      timers.delete(timer);
      if (!res.writableEnded) res.end();
    };
    const seconds = Number(request.query.timeoutSeconds ?? 1800);
    const timer = setTimeout(end, Math.max(1, seconds) * 1000);
    timers.add(timer);
    res.on('close', end);
  }

  function handleApps(
    request: KubeRequest,
    res: ServerResponse,
    ns: string | undefined,
    resource: Resource,
    name: string | undefined,
    sub: string | undefined,
  ): JsonObject {
    const dryRun = request.query.dryRun === 'All';
    if (name === undefined) {
      if (request.method !== 'GET')
        throw new HttpFailure(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
      if (request.query.watch === 'true' || request.query.watch === '1') {
        startWatch(resource, ns, request, res);
        return {};
      }
      const items = list(resource, ns).filter((o) =>
        watchMatches(
          {
            resource,
            namespace: ns,
            labelSelector: request.query.labelSelector,
            fieldSelector: request.query.fieldSelector,
          },
          o,
        ),
      );
      return listBody(resource, items);
    }
    if (ns === undefined)
      throw new HttpFailure(404, 'NotFound', 'the server could not find the requested resource');
    const current = get(resource, ns, name);
    if (!current) throw notFound(resource, name);
    if (resource === 'replicasets') {
      if (request.method !== 'GET')
        throw new HttpFailure(405, 'MethodNotAllowed', 'replicasets are read-only in this double');
      return current;
    }
    if (sub === 'status') {
      if (request.method !== 'GET')
        throw new HttpFailure(405, 'MethodNotAllowed', 'status is read-only in this double');
      return current;
    }
    if (sub === 'scale') {
      if (request.method === 'GET') return scaleOf(current);
      const scale =
        request.method === 'PATCH'
          ? applyPatch(scaleOf(current), request)
          : (request.body as JsonObject | undefined);
      if (request.method !== 'PATCH' && request.method !== 'PUT') {
        throw new HttpFailure(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
      }
      if (!isObject(scale) || !isObject(scale.spec) || typeof scale.spec.replicas !== 'number') {
        throw new HttpFailure(
          422,
          'Invalid',
          'Scale.autoscaling "scale" is invalid: spec.replicas: Required value',
        );
      }
      const next = clone(current);
      spec(next).replicas = scale.spec.replicas;
      const scaleRv = isObject(scale.metadata) ? scale.metadata.resourceVersion : undefined;
      if (scaleRv !== undefined) meta(next).resourceVersion = scaleRv;
      return scaleOf(commitDeployment(current, next, dryRun));
    }
    switch (request.method) {
      case 'GET':
        return current;
      case 'PATCH':
        return commitDeployment(current, applyPatch(current, request), dryRun);
      case 'PUT':
        if (!isObject(request.body)) throw new HttpFailure(400, 'BadRequest', 'the body is not a Deployment');
        return commitDeployment(current, request.body, dryRun);
      default:
        throw new HttpFailure(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
    }
  }

  function route(
    request: KubeRequest,
    res: ServerResponse,
    port: number,
  ): { body: JsonObject; contentType?: string } | undefined {
    const { path } = request;
    if (request.method === 'GET') {
      if (path === '/version') {
        return {
          body: {
            major: version.major,
            minor: version.minor,
            gitVersion: `v${version.major}.${version.minor}.0`,
            gitCommit: '0000000000000000000000000000000000000000',
            gitTreeState: 'clean',
            buildDate: '2025-01-01T00:00:00Z',
            goVersion: 'go1.23.0',
            compiler: 'gc',
            platform: 'linux/amd64',
          },
        };
      }
      if (path === '/api' || path === '/apis') {
        const aggregated = options.discovery === 'legacy' ? undefined : aggregatedVersion(request.accept);
        if (aggregated) {
          return {
            body: {
              kind: 'APIGroupDiscoveryList',
              apiVersion: `apidiscovery.k8s.io/${aggregated}`,
              metadata: {},
              items: [path === '/api' ? aggregatedGroup(undefined, CORE) : aggregatedGroup('apps', APPS)],
            },
            contentType: `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`,
          };
        }
        if (path === '/api') {
          return {
            body: {
              kind: 'APIVersions',
              versions: ['v1'],
              serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
            },
          };
        }
        return { body: { kind: 'APIGroupList', apiVersion: 'v1', groups: [APPS_GROUP] } };
      }
      if (path === '/api/v1') return { body: resourceList('v1', CORE) };
      if (path === '/apis/apps') return { body: { kind: 'APIGroup', apiVersion: 'v1', ...APPS_GROUP } };
      if (path === '/apis/apps/v1') return { body: resourceList('apps/v1', APPS) };
      const pods = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?pods$/.exec(path);
      if (pods) return { body: listBody('pods', []) };
      const namespace = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
      if (namespace) return { body: namespaceObject(namespace[1]!) };
    }
    const apps =
      /^\/apis\/apps\/v1\/(?:namespaces\/([^/]+)\/)?(deployments|replicasets)(?:\/([^/]+))?(?:\/(scale|status))?$/.exec(
        path,
      );
    if (apps) {
      const body = handleApps(request, res, apps[1], apps[2] as Resource, apps[3], apps[4]);
      return res.headersSent ? undefined : { body };
    }
    throw new HttpFailure(404, 'NotFound', 'the server could not find the requested resource');
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = rawBody === '' ? undefined : JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
        const request: KubeRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          contentType: req.headers['content-type'],
          accept: req.headers.accept,
          body,
          rawBody,
        };
        requests.push(request);
        const send = (code: number, payload: JsonObject, contentType = 'application/json'): void => {
          if (res.headersSent) return;
          res.writeHead(code, { 'content-type': contentType });
          res.end(JSON.stringify(payload));
        };
        try {
          for (const hook of [...hooks]) await hook(request);
          const failure = failures.findIndex((f) => f.match(request));
          const f = failure >= 0 ? failures.splice(failure, 1)[0] : undefined;
          if (f && !f.afterHandling) {
            send(f.failure.code, statusBody(f.failure));
            return;
          }
          const result = route(request, res, (server.address() as AddressInfo).port);
          if (f) send(f.failure.code, statusBody(f.failure));
          else if (result) send(200, result.body, result.contentType);
        } catch (err) {
          if (err instanceof HttpFailure) send(err.code, statusBody(err));
          else send(500, statusBody({ code: 500, reason: 'InternalError', message: String(err) }));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    requests,
    onRequest(fn) {
      hooks.add(fn);
      return () => hooks.delete(fn);
    },
    failNext(match, failure, options) {
      failures.push({ match, failure, afterHandling: options?.afterHandling ?? false });
    },
    patchCount(deployment, namespace) {
      const re = new RegExp(`^/apis/apps/v1/namespaces/${namespace ?? '[^/]+'}/deployments/${deployment}$`);
      return requests.filter((r) => r.method === 'PATCH' && re.test(r.path)).length;
    },
    seedDeployment(seed) {
      const { namespace, name } = seed;
      if (seed.revisions.length === 0) throw new Error('seedDeployment needs at least one revision');
      const container = seed.container ?? name;
      const start = Date.now() - seed.revisions.length * 3_600_000;
      seed.revisions.forEach((revision, i) => {
        const at = start + i * 3_600_000;
        const before = get('deployments', namespace, name);
        const dep: JsonObject = before ?? {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {
            name,
            namespace,
            uid: randomUUID(),
            generation: 0,
            creationTimestamp: timestamp(at),
            labels: { app: name },
            annotations: {},
          },
          spec: {
            replicas: seed.replicas ?? 3,
            selector: { matchLabels: { app: name } },
            template: {},
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
            revisionHistoryLimit: 10,
            progressDeadlineSeconds: 600,
          },
          status: {},
        };
        spec(dep).template = podTemplate(name, container, revision.image);
        const a = annotations(dep);
        if (revision.changeCause === undefined) delete a['kubernetes.io/change-cause'];
        else a['kubernetes.io/change-cause'] = revision.changeCause;
        meta(dep).generation = Number(meta(dep).generation) + 1;
        put('deployments', dep);
        sync(namespace, name, at);
      });
      if (seed.paused) {
        const dep = get('deployments', namespace, name)!;
        spec(dep).paused = true;
        meta(dep).generation = Number(meta(dep).generation) + 1;
        put('deployments', dep);
        sync(namespace, name);
      }
      return get('deployments', namespace, name)!;
    },
    setImage(namespace, name, image, changeCause) {
      const dep = get('deployments', namespace, name);
      if (!dep) throw new Error(`no deployment ${namespace}/${name}`);
      const next = clone(dep);
      const containers = ((spec(next).template as JsonObject).spec as JsonObject).containers as JsonObject[];
      containers[0]!.image = image;
      if (changeCause !== undefined) annotations(next)['kubernetes.io/change-cause'] = changeCause;
      commitDeployment(dep, next, false);
    },
    setRolloutBehaviour(namespace, name, behaviour) {
      behaviours.set(`${namespace}/${name}`, behaviour);
      progressUntil.delete(`${namespace}/${name}`);
      if (get('deployments', namespace, name)) scheduleSync(namespace, name);
    },
    pauseController() {
      controllerPaused = true;
    },
    resumeController() {
      controllerPaused = false;
      for (const held of heldSyncs) {
        const [ns, name] = held.split('/') as [string, string];
        scheduleSync(ns, name);
      }
      heldSyncs.clear();
    },
    openWatches: () => watchers.size,
    deployment: (namespace, name) => get('deployments', namespace, name),
    replicaSets(namespace, name) {
      const dep = get('deployments', namespace, name);
      return dep ? owned(dep) : [];
    },
    history(namespace, name) {
      const dep = get('deployments', namespace, name);
      return (dep ? owned(dep) : []).map((rs) => ({
        revision: revisionOf(rs),
        replicaSet: meta(rs).name as string,
        image: imageOf(spec(rs).template as Json),
      }));
    },
    writeKubeconfig(dir, context = 'kube-double') {
      const file = join(dir, 'kubeconfig.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '  - name: kube-double',
          '    cluster:',
          `      server: ${url}`,
          'users:',
          '  - name: kube-double-user',
          '    user: {}',
          'contexts:',
          `  - name: ${context}`,
          '    context:',
          '      cluster: kube-double',
          '      user: kube-double-user',
          `current-context: ${context}`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      return file;
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of watchers) w.res.end();
      watchers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

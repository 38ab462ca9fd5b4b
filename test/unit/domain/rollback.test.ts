import type { Deployment, ReplicaSet } from '../../../src/domain/kubernetes';
import {
  buildRolloutState,
  chooseRollbackTarget,
  type RollbackChoice,
  type RolloutRevision,
  type RolloutState,
  templatesMatch,
} from '../../../src/domain/rollback';

function revision(n: number, image: string): RolloutRevision {
  return {
    revision: n,
    replicaSet: `web-${image.replace(/\W/g, '')}`,
    podTemplateHash: image.replace(/\W/g, ''),
    images: [`app:${image}`],
    createdAt: `2025-01-0${n}T00:00:00Z`,
    replicas: 0,
  };
}

function rollout(revisions: RolloutRevision[], current: string | null, paused = false): RolloutState {
  return {
    namespace: 'data-platform',
    deployment: 'web',
    generation: 3,
    observedGeneration: 3,
    paused,
    replicas: 3,
    currentRevision: revisions.find((r) => r.replicaSet === current)?.revision ?? 0,
    currentReplicaSet: current,
    revisions,
  };
}

const v220 = revision(1, 'v2.2.0');
const v230 = revision(2, 'v2.3.0');
const v231 = revision(3, 'v2.3.1');
const settled = rollout([v220, v230, v231], v231.replicaSet);

describe('chooseRollbackTarget', () => {
  it.each<[string, RolloutState, { toRevision?: number }, RollbackChoice]>([
    ['picks the previous revision by default', settled, {}, { ok: true, target: v230 }],
    [
      'treats toRevision 0 as the previous revision, like kubectl',
      settled,
      { toRevision: 0 },
      { ok: true, target: v230 },
    ],
    ['picks the requested revision', settled, { toRevision: 1 }, { ok: true, target: v220 }],
    [
      'picks the highest revision that is not current when the current ReplicaSet is not yet renumbered',
      rollout([v220, v230, v231], v230.replicaSet),
      {},
      { ok: true, target: v231 },
    ],
    [
      'refuses a paused deployment',
      rollout([v220, v230, v231], v231.replicaSet, true),
      {},
      { ok: false, reason: 'paused', message: 'deployment "web" is paused; resume it before rolling back' },
    ],
    [
      'refuses a deployment with a single revision',
      rollout([v231], v231.replicaSet),
      {},
      {
        ok: false,
        reason: 'no_history',
        message: 'deployment "web" has no previous revision to roll back to',
      },
    ],
    [
      'refuses a deployment without any ReplicaSet',
      rollout([], null),
      {},
      {
        ok: false,
        reason: 'no_history',
        message: 'deployment "web" has no previous revision to roll back to',
      },
    ],
    [
      'refuses a revision that is not in the history',
      rollout([v220, v231], v231.replicaSet),
      { toRevision: 2 },
      {
        ok: false,
        reason: 'target_missing',
        message: 'revision 2 of deployment "web" is not in its rollout history (revisions: 1, 3)',
      },
    ],
    [
      'refuses a negative revision',
      settled,
      { toRevision: -1 },
      {
        ok: false,
        reason: 'target_missing',
        message: 'revision -1 of deployment "web" is not in its rollout history (revisions: 1, 2, 3)',
      },
    ],
    [
      'refuses the current revision as a target',
      settled,
      { toRevision: 3 },
      {
        ok: false,
        reason: 'already_current',
        message: 'revision 3 is already the current revision of deployment "web"',
      },
    ],
  ])('%s', (_title, state, options, expected) => {
    expect(chooseRollbackTarget(state, options)).toEqual(expected);
  });
});

const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } },
  spec: { containers: [{ name: 'web', image, resources: {} }] },
});

function replicaSet(
  name: string,
  rev: string | undefined,
  image: string,
  owner: { uid: string; controller?: boolean },
) {
  return {
    metadata: {
      name,
      namespace: 'data-platform',
      creationTimestamp: `2025-01-01T00:00:0${name.length % 10}Z`,
      labels: { app: 'web', 'pod-template-hash': name.slice(4) },
      annotations: rev === undefined ? {} : { 'deployment.kubernetes.io/revision': rev },
      ownerReferences: [
        { kind: 'Deployment', name: 'web', uid: owner.uid, controller: owner.controller ?? true },
      ],
    },
    spec: { replicas: 0, template: template(image, name.slice(4)) },
  } as ReplicaSet;
}

const deployment = (image: string, revisionAnnotation: string): Deployment => ({
  metadata: {
    name: 'web',
    namespace: 'data-platform',
    uid: 'uid-web',
    generation: 4,
    annotations: { 'deployment.kubernetes.io/revision': revisionAnnotation },
  },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template(image) },
  status: { observedGeneration: 4 },
});

describe('buildRolloutState', () => {
  const sets = [
    replicaSet('web-aaa', '1', 'app:v1', { uid: 'uid-web' }),
    replicaSet('web-bbb', '3', 'app:v2', { uid: 'uid-web' }),
    replicaSet('web-ccc', '4', 'app:v3', { uid: 'uid-web' }),
    replicaSet('web-other', '9', 'app:v9', { uid: 'uid-other' }),
    replicaSet('web-notctl', '8', 'app:v8', { uid: 'uid-web', controller: false }),
    replicaSet('web-norev', undefined, 'app:v7', { uid: 'uid-web' }),
  ];

  it('keeps only ReplicaSets the deployment controls that carry a revision, oldest first', () => {
    const state = buildRolloutState(deployment('app:v3', '4'), [...sets].reverse());
    expect(state.revisions.map((r) => [r.revision, r.replicaSet, r.images])).toEqual([
      [1, 'web-aaa', ['app:v1']],
      [3, 'web-bbb', ['app:v2']],
      [4, 'web-ccc', ['app:v3']],
    ]);
  });

  it('identifies the current ReplicaSet by template, not by revision number', () => {
    // Just after an undo to app:v2: the template changed, the controller has not renumbered yet.
    const state = buildRolloutState(deployment('app:v2', '4'), sets);
    expect([state.currentRevision, state.currentReplicaSet]).toEqual([4, 'web-bbb']);
  });

  it('falls back to the ReplicaSet carrying the deployment revision when no template matches', () => {
    const state = buildRolloutState(deployment('app:v4', '4'), sets);
    expect(state.currentReplicaSet).toBe('web-ccc');
  });

  it('reports no current ReplicaSet before the controller created one', () => {
    const state = buildRolloutState(deployment('app:v1', '0'), []);
    expect([state.currentRevision, state.currentReplicaSet, state.revisions]).toEqual([0, null, []]);
  });
});

describe('templatesMatch', () => {
  it('ignores the pod-template-hash label', () => {
    expect(templatesMatch(template('app:v1', 'abc'), template('app:v1'))).toBe(true);
  });

  it('treats an absent field like an empty one', () => {
    const bare = {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'app:v1' }] },
    };
    expect(templatesMatch(bare, template('app:v1'))).toBe(true);
  });

  it('tells different images apart', () => {
    expect(templatesMatch(template('app:v1'), template('app:v2'))).toBe(false);
  });

  it('tells a changed pod-template annotation apart', () => {
    const restarted = {
      ...template('app:v1'),
      metadata: { labels: { app: 'web' }, annotations: { k: 'v' } },
    };
    expect(templatesMatch(restarted, template('app:v1'))).toBe(false);
  });
});

/**
 * The kubectl runner driving the REAL kubectl binary (resolveTool('kubectl'), or KUBECTL_PATH) against the
 * Kubernetes API server double.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubectl, type Kubectl, KubectlError, type KubectlOptions } from '../../src/adapters/kubectl';
import { resolveTool } from '../../src/config/tools';
import { ErrorType } from '../../src/domain/errors';
import type { KubeAllowlist } from '../../src/domain/kubernetes';
import { chooseRollbackTarget } from '../../src/domain/rollback';
import {
  type KubeApiServerDouble,
  type KubeApiServerDoubleOptions,
  startKubeApiServerDouble,
} from '../doubles/kube-apiserver-double';
import { eventually } from '../helpers/temporal';

const NS = 'data-platform';
const DEPLOY = 'airflow-workers';
const allow: KubeAllowlist = {
  namespaces: { [NS]: { deployments: ['airflow-workers', 'airflow-scheduler', 'paused-dag-runner'] } },
};

let double: KubeApiServerDouble;
let dir: string;
let kubectl: Kubectl;

async function setup(
  options: KubeApiServerDoubleOptions = {},
  overrides: Partial<KubectlOptions> = {},
): Promise<void> {
  double = await startKubeApiServerDouble(options);
  double.seedDeployment({
    namespace: NS,
    name: DEPLOY,
    revisions: [
      { image: 'apache/airflow:v2.2.0', changeCause: 'deploy v2.2.0' },
      { image: 'apache/airflow:v2.3.0', changeCause: 'deploy v2.3.0' },
      { image: 'apache/airflow:v2.3.1', changeCause: 'deploy v2.3.1' },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'kubectl-test-'));
  kubectl = createKubectl({
    path: resolveTool('kubectl'),
    kubeconfig: double.writeKubeconfig(dir),
    context: 'kube-double',
    cacheDir: join(dir, 'cache'),
    allow,
    defaultTimeoutMs: 10_000,
    ...overrides,
  });
}

async function teardown(): Promise<void> {
  await double?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

function replicaSetOf(image: string): string {
  const found = double.history(NS, DEPLOY).find((h) => h.image === `apache/airflow:${image}`);
  if (!found) throw new Error(`no ReplicaSet runs ${image}`);
  return found.replicaSet;
}

/** The rejection of `promise` as a KubectlError (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<KubectlError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KubectlError)) throw new Error(`expected a KubectlError, got ${String(err)}`);
  return err;
}

/** Waits (up to `timeoutMs`) until `condition` holds. */
function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<true> {
  return eventually(() => Promise.resolve(condition() ? true : undefined), timeoutMs, what);
}

/** Waits until the controller has given the deployment `revisions`. */
async function historyBecomes(revisions: Array<[number, string]>): Promise<void> {
  const wanted = JSON.stringify(revisions);
  await until(
    () =>
      JSON.stringify(
        double.history(NS, DEPLOY).map((h) => [h.revision, h.image.replace('apache/airflow:', '')]),
      ) === wanted,
    `history ${wanted}`,
  );
}

describe('kubectl runner against the API server double', () => {
  beforeEach(() => setup());
  afterEach(teardown);

  it('reads the rollout state and revision history of a deployment', async () => {
    const rollout = await kubectl.readRollout(NS, DEPLOY);
    expect(rollout).toMatchObject({
      namespace: NS,
      deployment: DEPLOY,
      generation: 3,
      observedGeneration: 3,
      paused: false,
      replicas: 3,
      currentRevision: 3,
      currentReplicaSet: replicaSetOf('v2.3.1'),
    });
    expect(
      rollout.revisions.map((r) => [r.revision, r.replicaSet, r.images, r.changeCause, r.replicas]),
    ).toEqual([
      [1, replicaSetOf('v2.2.0'), ['apache/airflow:v2.2.0'], 'deploy v2.2.0', 0],
      [2, replicaSetOf('v2.3.0'), ['apache/airflow:v2.3.0'], 'deploy v2.3.0', 0],
      [3, replicaSetOf('v2.3.1'), ['apache/airflow:v2.3.1'], 'deploy v2.3.1', 3],
    ]);
    expect(rollout.revisions.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(r.createdAt))).toBe(true);
  });

  it('lists ReplicaSets with the deployment selector and asks for JSON', async () => {
    await kubectl.readRollout(NS, DEPLOY);
    const list = double.requests.find((r) => r.path === `/apis/apps/v1/namespaces/${NS}/replicasets`);
    expect(list?.query.labelSelector).toBe(`app=${DEPLOY}`);
    expect(list?.accept).toContain('application/json');
  });

  it('rolls back to the previous revision, which the controller renumbers to 4', async () => {
    const choice = chooseRollbackTarget(await kubectl.readRollout(NS, DEPLOY));
    if (!choice.ok) throw new Error(choice.message);
    expect(choice.target.images).toEqual(['apache/airflow:v2.3.0']);

    const result = await kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet: choice.target.replicaSet });

    expect(result).toEqual({
      skipped: false,
      fromRevision: 3,
      fromReplicaSet: replicaSetOf('v2.3.1'),
      toReplicaSet: replicaSetOf('v2.3.0'),
      toRevision: 2,
    });
    await historyBecomes([
      [1, 'v2.2.0'],
      [3, 'v2.3.1'],
      [4, 'v2.3.0'],
    ]);
    const after = await kubectl.readRollout(NS, DEPLOY);
    expect([after.currentRevision, after.currentReplicaSet]).toEqual([4, choice.target.replicaSet]);
  });

  it('sends the rollback as one JSON Patch of the pod template and annotations', async () => {
    await kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet: replicaSetOf('v2.3.0') });
    const patches = double.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]!.contentType).toBe('application/json-patch+json');
    expect((patches[0]!.body as Array<{ op: string; path: string }>).map((op) => [op.op, op.path])).toEqual([
      ['replace', '/spec/template'],
      ['replace', '/metadata/annotations'],
    ]);
  });

  it('skips a second undo to the same target and sends no PATCH', async () => {
    const targetReplicaSet = replicaSetOf('v2.3.0');
    await kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet });
    await historyBecomes([
      [1, 'v2.2.0'],
      [3, 'v2.3.1'],
      [4, 'v2.3.0'],
    ]);

    const again = await kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet });

    expect(again).toEqual({
      skipped: true,
      reason: 'already at target',
      replicaSet: targetReplicaSet,
      revision: 4,
    });
    expect(double.patchCount(DEPLOY)).toBe(1);
  });

  it('skips the retry of an undo whose kubectl was killed after its PATCH arrived, before the controller reacted', async () => {
    const targetReplicaSet = replicaSetOf('v2.3.0');
    const crash = new AbortController();
    double.pauseController();
    double.onRequest((r) => {
      if (r.method === 'PATCH') crash.abort(new Error('worker crashed'));
    });

    await expect(kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet, signal: crash.signal })).rejects.toThrow(
      'worker crashed',
    );
    const retry = await kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet });

    expect(retry).toEqual({
      skipped: true,
      reason: 'already at target',
      replicaSet: targetReplicaSet,
      revision: 2,
    });
    expect(double.patchCount(DEPLOY)).toBe(1);
    double.resumeController();
    await historyBecomes([
      [1, 'v2.2.0'],
      [3, 'v2.3.1'],
      [4, 'v2.3.0'],
    ]);
  });

  it('refuses to roll back to a ReplicaSet that is not in the history', async () => {
    const err = await failure(kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet: 'airflow-workers-gone' }));
    expect([err.type, err.message]).toEqual([
      ErrorType.NotFound,
      'ReplicaSet "airflow-workers-gone" is no longer in the rollout history of deployment "airflow-workers"',
    ]);
    expect(double.patchCount(DEPLOY)).toBe(0);
  });

  it('refuses to roll back a paused deployment without sending a PATCH', async () => {
    double.seedDeployment({
      namespace: NS,
      name: 'paused-dag-runner',
      revisions: [{ image: 'runner:1' }, { image: 'runner:2' }],
      paused: true,
    });
    const rollout = await kubectl.readRollout(NS, 'paused-dag-runner');
    expect(rollout.paused).toBe(true);
    expect(chooseRollbackTarget(rollout)).toMatchObject({ ok: false, reason: 'paused' });

    const err = await failure(
      kubectl.rolloutUndo(NS, 'paused-dag-runner', { targetReplicaSet: rollout.revisions[0]!.replicaSet }),
    );

    expect([err.type, err.message]).toEqual([
      ErrorType.OperationFailed,
      'deployment "paused-dag-runner" is paused; resume it before rolling back',
    ]);
    expect(double.patchCount('paused-dag-runner')).toBe(0);
  });

  it.each<[string, (k: Kubectl) => Promise<unknown>, string]>([
    [
      'readRollout',
      (k) => k.readRollout('kube-system', 'coredns'),
      'namespace "kube-system" is not in the Kubernetes allowlist',
    ],
    [
      'rolloutUndo',
      (k) => k.rolloutUndo(NS, 'postgres', { targetReplicaSet: 'postgres-abc' }),
      'deployment "postgres" in namespace "data-platform" is not in the Kubernetes allowlist',
    ],
    [
      'rolloutStatus',
      (k) => k.rolloutStatus(NS, 'postgres', { timeoutMs: 1_000 }),
      'deployment "postgres" in namespace "data-platform" is not in the Kubernetes allowlist',
    ],
    [
      'rolloutRestart',
      (k) => k.rolloutRestart(NS, 'postgres', { restartKey: 'k' }),
      'deployment "postgres" in namespace "data-platform" is not in the Kubernetes allowlist',
    ],
    [
      'scale',
      (k) => k.scale(NS, 'postgres', { replicas: 0 }),
      'deployment "postgres" in namespace "data-platform" is not in the Kubernetes allowlist',
    ],
    [
      'currentReplicas',
      (k) => k.currentReplicas(NS, '--all'),
      'deployment "--all" must be a DNS subdomain name (lower-case letters, digits, "-" and ".")',
    ],
  ])(
    'refuses %s outside the allowlist before any request reaches the API server',
    async (_op, call, message) => {
      const err = await failure(call(kubectl));
      expect([err.type, err.message]).toEqual([ErrorType.NotAllowed, message]);
      expect(double.requests).toEqual([]);
    },
  );

  it('reports a missing deployment as NotFound with kubectl’s error line', async () => {
    const err = await failure(kubectl.readRollout(NS, 'airflow-scheduler'));
    expect([err.type, err.message, err.exitCode]).toEqual([
      ErrorType.NotFound,
      'Error from server (NotFound): deployments.apps "airflow-scheduler" not found',
      1,
    ]);
  });

  it('reports a forbidden request as NotAllowed', async () => {
    double.failNext((r) => r.method === 'PATCH', {
      code: 403,
      reason: 'Forbidden',
      message:
        'deployments.apps "airflow-workers" is forbidden: User "system:serviceaccount:ops:incidentflow" cannot patch resource "deployments" in API group "apps" in the namespace "data-platform"',
    });
    const err = await failure(kubectl.rolloutUndo(NS, DEPLOY, { targetReplicaSet: replicaSetOf('v2.3.0') }));
    expect(err.type).toBe(ErrorType.NotAllowed);
    expect(err.message).toBe(
      'error: failed restoring revision 2: deployments.apps "airflow-workers" is forbidden: User "system:serviceaccount:ops:incidentflow" cannot patch resource "deployments" in API group "apps" in the namespace "data-platform"',
    );
  });

  it('waits for a rollout to complete and reports kubectl’s progress', async () => {
    double.setRolloutBehaviour(NS, DEPLOY, { mode: 'complete', progressMs: 1_500 });
    double.setImage(NS, DEPLOY, 'apache/airflow:v2.3.2');
    const progress: string[] = [];

    const result = await kubectl.rolloutStatus(NS, DEPLOY, {
      timeoutMs: 20_000,
      onProgress: (line) => progress.push(line),
    });

    expect(result).toEqual({ message: 'deployment "airflow-workers" successfully rolled out' });
    expect(progress[0]).toMatch(/^Waiting for deployment "airflow-workers" rollout to finish: /);
    const watch = double.requests.find((r) => r.query.watch === 'true');
    expect(watch?.query.fieldSelector).toBe(`metadata.name=${DEPLOY}`);
  });

  it('times out waiting for a stalled rollout', async () => {
    double.setRolloutBehaviour(NS, DEPLOY, { mode: 'stall' });
    double.setImage(NS, DEPLOY, 'apache/airflow:v2.3.2');

    const started = Date.now();
    const err = await failure(kubectl.rolloutStatus(NS, DEPLOY, { timeoutMs: 2_000 }));

    expect([err.type, err.message]).toEqual([
      ErrorType.TimedOut,
      'error: timed out waiting for the condition',
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it('fails when the rollout exceeded its progress deadline', async () => {
    double.setRolloutBehaviour(NS, DEPLOY, { mode: 'fail' });
    double.setImage(NS, DEPLOY, 'apache/airflow:v2.3.2');
    await until(
      () => (double.deployment(NS, DEPLOY)?.status as { updatedReplicas?: number })?.updatedReplicas === 1,
      'the rollout to stall',
    );

    const err = await failure(kubectl.rolloutStatus(NS, DEPLOY, { timeoutMs: 20_000 }));

    expect([err.type, err.message]).toEqual([
      ErrorType.OperationFailed,
      'error: deployment "airflow-workers" exceeded its progress deadline',
    ]);
  });

  it('restarts once per restart key', async () => {
    expect(await kubectl.rolloutRestart(NS, DEPLOY, { restartKey: 'incident-42/restart' })).toEqual({
      restarted: true,
    });
    await historyBecomes([
      [1, 'v2.2.0'],
      [2, 'v2.3.0'],
      [3, 'v2.3.1'],
      [4, 'v2.3.1'],
    ]);

    expect(await kubectl.rolloutRestart(NS, DEPLOY, { restartKey: 'incident-42/restart' })).toEqual({
      restarted: false,
    });
    expect(double.patchCount(DEPLOY)).toBe(1);
    const patch = double.requests.find((r) => r.method === 'PATCH');
    expect([patch?.contentType, patch?.body]).toEqual([
      'application/merge-patch+json',
      {
        spec: {
          template: { metadata: { annotations: { 'incidentflow.io/restart-key': 'incident-42/restart' } } },
        },
      },
    ]);

    expect(await kubectl.rolloutRestart(NS, DEPLOY, { restartKey: 'incident-43/restart' })).toEqual({
      restarted: true,
    });
    await historyBecomes([
      [1, 'v2.2.0'],
      [2, 'v2.3.0'],
      [3, 'v2.3.1'],
      [4, 'v2.3.1'],
      [5, 'v2.3.1'],
    ]);
  });

  it('scales through the scale subresource without creating a revision', async () => {
    await kubectl.scale(NS, DEPLOY, { replicas: 5 });

    expect(await kubectl.currentReplicas(NS, DEPLOY)).toBe(5);
    expect(
      double.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/deployments/${DEPLOY}/scale`)),
    ).toBe(true);
    expect(double.history(NS, DEPLOY).map((h) => h.revision)).toEqual([1, 2, 3]);
  });

  it('refuses a compare-and-set scale when the replica count moved', async () => {
    await kubectl.scale(NS, DEPLOY, { replicas: 5 });
    const err = await failure(kubectl.scale(NS, DEPLOY, { replicas: 6, currentReplicas: 3 }));
    expect([err.type, err.message]).toEqual([
      ErrorType.OperationFailed,
      'error: Expected replicas to be 3, was 5',
    ]);
    expect(await kubectl.currentReplicas(NS, DEPLOY)).toBe(5);
  });

  it('kills kubectl when the call is aborted', async () => {
    double.setRolloutBehaviour(NS, DEPLOY, { mode: 'stall' });
    double.setImage(NS, DEPLOY, 'apache/airflow:v2.3.2');
    const abort = new AbortController();
    const waiting = kubectl.rolloutStatus(NS, DEPLOY, { timeoutMs: 120_000, signal: abort.signal });
    const outcome = waiting.then(
      () => 'resolved',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    await until(() => double.openWatches() > 0, 'kubectl to watch', 10_000);

    const started = Date.now();
    abort.abort(new Error('activity cancelled'));

    expect(await outcome).toBe('activity cancelled');
    await until(() => double.openWatches() === 0, 'the watch to close');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports an unknown kubeconfig context as NotConfigured without a request', async () => {
    const other = createKubectl({
      path: resolveTool('kubectl'),
      kubeconfig: join(dir, 'kubeconfig.yaml'),
      context: 'production',
      cacheDir: join(dir, 'cache'),
      allow,
      defaultTimeoutMs: 10_000,
    });
    const err = await failure(other.readRollout(NS, DEPLOY));
    expect(err.type).toBe(ErrorType.NotConfigured);
    expect(err.message).toContain('production');
    expect(double.requests).toEqual([]);
  });

  it('reports an unreachable API server as Unavailable', async () => {
    await double.close();
    const err = await failure(kubectl.readRollout(NS, DEPLOY));
    expect(err.type).toBe(ErrorType.Unavailable);
  });
});

describe('kubectl runner against an API server without aggregated discovery', () => {
  beforeEach(() => setup({ discovery: 'legacy' }));
  afterEach(teardown);

  it('discovers resources from the legacy documents and reads the rollout', async () => {
    const rollout = await kubectl.readRollout(NS, DEPLOY);
    expect(rollout.revisions.map((r) => r.revision)).toEqual([1, 2, 3]);
    const paths = double.requests.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['/api', '/apis', '/api/v1', '/apis/apps/v1']));
  });
});

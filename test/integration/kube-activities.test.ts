/**
 * The Kubernetes activities in an activity context (MockActivityEnvironment: heartbeats, cancellation),
 * running the real kubectl against the API server double.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createKubeActivities, type KubeActivities } from '../../src/activities/kube.activities';
import { createKubectl } from '../../src/adapters/kubectl';
import { resolveTool } from '../../src/config/tools';
import { ErrorType } from '../../src/domain/errors';
import { type KubeApiServerDouble, startKubeApiServerDouble } from '../doubles/kube-apiserver-double';
import { eventually } from '../helpers/temporal';

const NS = 'data-platform';
const DEPLOY = 'airflow-workers';
const target = { namespace: NS, deployment: DEPLOY };

let double: KubeApiServerDouble;
let dir: string;
let activities: KubeActivities;
let env: MockActivityEnvironment;

beforeEach(async () => {
  double = await startKubeApiServerDouble();
  double.seedDeployment({
    namespace: NS,
    name: DEPLOY,
    revisions: [
      { image: 'apache/airflow:v2.2.0' },
      { image: 'apache/airflow:v2.3.0', changeCause: 'deploy v2.3.0' },
      { image: 'apache/airflow:v2.3.1', changeCause: 'deploy v2.3.1' },
    ],
  });
  double.seedDeployment({
    namespace: NS,
    name: 'airflow-scheduler',
    revisions: [{ image: 's:1' }, { image: 's:2' }],
    paused: true,
  });
  dir = mkdtempSync(join(tmpdir(), 'kube-activities-'));
  const kubectl = createKubectl({
    path: resolveTool('kubectl'),
    kubeconfig: double.writeKubeconfig(dir),
    cacheDir: join(dir, 'cache'),
    allow: { namespaces: { [NS]: { deployments: [DEPLOY, 'airflow-scheduler'] } } },
    defaultTimeoutMs: 10_000,
  });
  activities = createKubeActivities({ kubectl, heartbeatIntervalMs: 200 });
  // Failures are asserted; the worker's activity failure log lines would only be noise here.
  env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) });
});

afterEach(async () => {
  await double.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The ApplicationFailure `promise` rejects with (fails the test when it resolves or throws anything else). */
async function applicationFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure))
    throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  return err;
}

/** Runs an activity in the mock activity context, keeping its result type. */
function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run<A, R, typeof fn>(fn, ...args);
}

function replicaSetOf(image: string): string {
  return double.history(NS, DEPLOY).find((h) => h.image === `apache/airflow:${image}`)!.replicaSet;
}

describe('Kubernetes activities', () => {
  it('prepares a rollback to the previous revision', async () => {
    const plan = await run(activities.kubePrepareRollback, target);
    expect(plan).toEqual({
      targetReplicaSet: replicaSetOf('v2.3.0'),
      targetRevision: 2,
      targetPodTemplateHash: replicaSetOf('v2.3.0').slice(`${DEPLOY}-`.length),
      images: ['apache/airflow:v2.3.0'],
      currentRevision: 3,
      currentReplicaSet: replicaSetOf('v2.3.1'),
      currentImages: ['apache/airflow:v2.3.1'],
    });
  });

  it('rolls back once when the undo activity runs twice', async () => {
    const plan = await run(activities.kubePrepareRollback, target);
    const first = await run(activities.kubeRolloutUndo, {
      ...target,
      targetReplicaSet: plan.targetReplicaSet,
    });
    const second = await run(activities.kubeRolloutUndo, {
      ...target,
      targetReplicaSet: plan.targetReplicaSet,
    });

    expect(first).toMatchObject({ skipped: false, toReplicaSet: plan.targetReplicaSet, toRevision: 2 });
    expect(second).toMatchObject({
      skipped: true,
      reason: 'already at target',
      replicaSet: plan.targetReplicaSet,
    });
    expect(double.patchCount(DEPLOY)).toBe(1);
  });

  it('fails non-retryably with NotAllowed outside the allowlist', async () => {
    const err = await applicationFailure(
      run(activities.kubePrepareRollback, { namespace: 'default', deployment: 'web' }),
    );
    expect([err.type, err.nonRetryable, err.message]).toEqual([
      ErrorType.NotAllowed,
      true,
      'namespace "default" is not in the Kubernetes allowlist',
    ]);
    expect(double.requests).toEqual([]);
  });

  it('fails non-retryably when preparing the rollback of a paused deployment', async () => {
    const err = await applicationFailure(
      run(activities.kubePrepareRollback, { namespace: NS, deployment: 'airflow-scheduler' }),
    );
    expect([err.type, err.nonRetryable, err.message]).toEqual([
      ErrorType.OperationFailed,
      true,
      'deployment "airflow-scheduler" is paused; resume it before rolling back',
    ]);
  });

  it('fails non-retryably with NotFound when the requested revision is not in the history', async () => {
    const err = await applicationFailure(run(activities.kubePrepareRollback, { ...target, toRevision: 7 }));
    expect([err.type, err.nonRetryable]).toEqual([ErrorType.NotFound, true]);
  });

  it('heartbeats with kubectl’s progress while the rollout runs', async () => {
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    double.setRolloutBehaviour(NS, DEPLOY, { mode: 'complete', progressMs: 1_500 });
    double.setImage(NS, DEPLOY, 'apache/airflow:v2.3.2');

    const result = await run(activities.kubeRolloutStatus, { ...target, timeoutMs: 20_000 });

    expect(result).toEqual({ message: 'deployment "airflow-workers" successfully rolled out' });
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats).toContainEqual({
      progress: expect.stringMatching(/^Waiting for deployment "airflow-workers"/),
    });
  });

  it('fails with a retryable TimedOut when the rollout does not finish in time', async () => {
    double.setRolloutBehaviour(NS, DEPLOY, { mode: 'stall' });
    double.setImage(NS, DEPLOY, 'apache/airflow:v2.3.2');
    const err = await applicationFailure(run(activities.kubeRolloutStatus, { ...target, timeoutMs: 1_000 }));
    expect([err.type, err.nonRetryable]).toEqual([ErrorType.TimedOut, false]);
  });

  it('kills kubectl when the activity is cancelled', async () => {
    double.setRolloutBehaviour(NS, DEPLOY, { mode: 'stall' });
    double.setImage(NS, DEPLOY, 'apache/airflow:v2.3.2');
    const outcome = run(activities.kubeRolloutStatus, { ...target, timeoutMs: 120_000 }).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await eventually(
      () => Promise.resolve(double.openWatches() > 0 || undefined),
      10_000,
      'kubectl to watch',
    );

    env.cancel();

    expect(await outcome).toBeInstanceOf(CancelledFailure);
    await eventually(
      () => Promise.resolve(double.openWatches() === 0 || undefined),
      5_000,
      'the watch to close',
    );
  });

  it('restarts once per restart key', async () => {
    const input = { ...target, restartKey: 'incident:airflow:dag-failed/restart-workers' };
    expect(await run(activities.kubeRolloutRestart, input)).toEqual({ restarted: true });
    expect(await run(activities.kubeRolloutRestart, input)).toEqual({ restarted: false });
    expect(double.patchCount(DEPLOY)).toBe(1);
  });

  it('scales up by a number of replicas from the live size', async () => {
    expect(await run(activities.kubeScale, { ...target, increaseBy: 2 })).toEqual({
      previous: 3,
      current: 5,
    });
    const put = double.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/scale'));
    expect((put?.body as { spec: { replicas: number } }).spec.replicas).toBe(5);
  });

  it('sends no scale request when the deployment already has the wanted size', async () => {
    expect(await run(activities.kubeScale, { ...target, replicas: 3 })).toEqual({
      previous: 3,
      current: 3,
    });
    expect(double.requests.filter((r) => r.path.endsWith('/scale'))).toEqual([]);
  });

  it('reads the desired replicas without writing anything', async () => {
    expect(await run(activities.kubeReadReplicas, target)).toEqual({ replicas: 3 });
    expect(double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('refuses to read a deployment outside the allowlist, non-retryably', async () => {
    const err = await applicationFailure(
      run(activities.kubeReadReplicas, { namespace: NS, deployment: 'postgres' }),
    );
    expect([err.type, err.nonRetryable]).toEqual([ErrorType.NotAllowed, true]);
    expect(double.requests).toEqual([]);
  });

  it('rejects a scale request with both replicas and increaseBy', async () => {
    const err = await applicationFailure(
      run(activities.kubeScale, { ...target, replicas: 4, increaseBy: 1 }),
    );
    expect([err.type, err.nonRetryable, err.message]).toEqual([
      ErrorType.Rejected,
      true,
      'kubeScale needs exactly one of replicas or increaseBy',
    ]);
  });
});

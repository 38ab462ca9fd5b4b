/**
 * Relative changes happen exactly once: `airflow.set_pool_slots` and `kubectl.scale` with `increase_by`
 * read the live size, record `previous` and `target` in the step's state, and only then set the absolute
 * target. A change that was carried out but never reported (its response lost, its activity failed for
 * good, the step retried) converges on the recorded target instead of adding again. Real activities against
 * the Airflow and Kubernetes API server doubles (with the real kubectl), on the time-skipping server.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/load-config';
import { alertFromGeneric, GenericAlert } from '../../src/domain/generic-alert';
import type { IncidentView } from '../../src/domain/incident-view';
import { createIncidentStarter, defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { createTemporalClient } from '../../src/temporal/client';
import {
  commentSignal,
  incidentQuery,
  resolveSignal,
  runRunbookSignal,
} from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { startAirflowDouble, type AirflowDouble, type RecordedRequest } from '../doubles/airflow-double';
import { startKubeApiServerDouble, type KubeApiServerDouble } from '../doubles/kube-apiserver-double';
import { uniqueKey } from '../helpers/alerts';
import { shippedConfig } from '../helpers/app';
import { openIncident } from '../helpers/incident';
import { skippingClock } from '../helpers/skipping-clock';
import { eventually, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

const RUN_ID = 'scheduled__2026-11-25T09:00:00+00:00';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
});

afterAll(async () => {
  await env?.teardown();
});

describe('connection_pool_exhaustion when the pool change is carried out but never reported', () => {
  let airflow: AirflowDouble;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const taskQueue = uniqueTaskQueue('pool-once');
  const dagId = uniqueKey('warehouse_load').replace('-', '_');

  beforeAll(async () => {
    airflow = await startAirflowDouble({ versions: ['v2'] });
    airflow.addDag({ dagId, tasks: ['extract', 'load'] });
    airflow.addRun({
      dagId,
      runId: RUN_ID,
      state: 'failed',
      taskStates: { extract: 'success', load: 'failed' },
    });
    airflow.addPool({ name: 'warehouse', slots: 10, occupiedSlots: 10 });
    worker = await startTestWorker(env, {
      taskQueue,
      clock: await skippingClock(env),
      env: {
        AIRFLOW_BASE_URL: airflow.url,
        AIRFLOW_USERNAME: 'admin',
        AIRFLOW_PASSWORD: 'admin',
        AIRFLOW_API_VERSION: 'v2',
      },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await airflow?.close();
  });

  it('raises the pool by increase_by once, across the failed attempt and the step retry', async () => {
    // Airflow applies the PATCH but answers 500; every later read of the pool in that activity fails
    // too, so the activity fails for good and the runbook retries the step 30 s later.
    const lost = airflow.injectFault({ method: 'PATCH', path: '/pools/warehouse', afterHandling: true });
    let readsDown: ReturnType<AirflowDouble['injectFault']> | undefined;
    airflow.onRequest((r) => {
      if (r.method === 'PATCH' && !readsDown) {
        readsDown = airflow.injectFault({ method: 'GET', path: '/pools/warehouse', times: 4 });
      }
    });

    const temporal = createTemporalClient(env.address, 'default');
    const starter = createIncidentStarter({
      temporal,
      taskQueue,
      config: () => shippedConfig,
      settings: defaultIncidentSettings({
        autoResolveGraceMs: 60_000,
        features: { slack: false, store: false, pagerduty: false, alertmanager: false },
      }),
    });
    const alert = alertFromGeneric(
      GenericAlert.parse({
        name: 'AirflowTaskFailureRateHigh',
        source: 'airflow',
        severity: 'P2',
        labels: {
          dag_id: dagId,
          task_id: 'load',
          run_id: RUN_ID,
          pool: 'warehouse',
          incident_type: 'connection_pool_exhaustion',
          runbook: 'connection_pool_exhaustion',
        },
        summary: `${dagId}.load failed: pool warehouse has no open slots`,
      }),
      new Date().toISOString(),
    );
    const { incidents } = await starter.ingest([alert]);
    await temporal.close();
    const handle = env.client.workflow.getHandle(incidents[0]!.incidentId);

    const outcome = await handle.result();
    const view: IncidentView = await handle.query(incidentQuery);

    expect([lost.hits(), readsDown?.hits()]).toEqual([1, 4]);
    expect(outcome).toMatchObject({ status: 'resolved' });
    expect(view.runbook).toMatchObject({ runbook: 'connection_pool_exhaustion', status: 'succeeded' });
    const raise = view.runbook!.steps.raise_pool!;
    expect(raise).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      data: { previous: 10, target: 15, current: 15 },
    });
    expect(airflow.poolSlots('warehouse')).toBe(15);
    const applied = (r: RecordedRequest) => r.status === 200 || r.fault === 'response_lost';
    expect(airflow.requestsTo('PATCH', '/pools/warehouse').filter(applied)).toHaveLength(1);
  });
});

describe('kubectl.scale when the scale is carried out but its response is lost', () => {
  let kube: KubeApiServerDouble;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const taskQueue = uniqueTaskQueue('scale-once');
  let config: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    kube = await startKubeApiServerDouble();
    kube.seedDeployment({
      namespace: 'data-platform',
      name: 'airflow-workers',
      replicas: 3,
      revisions: [{ image: 'registry.local/airflow-workers:v2.3.1' }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'incidentflow-scale-'));
    cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
    writeFileSync(
      join(dir, 'runbooks/scale_up_workers.yaml'),
      `name: scale_up_workers
title: Add two worker replicas (test)
risk: safe
match: { incident_types: [task_temporary_failure] }
steps:
  - id: scale
    type: action
    action: kubectl.scale
    with: { namespace: data-platform, deployment: airflow-workers, increase_by: 2 }
    timeout: 1m
`,
    );
    config = loadConfig(dir);
    worker = await startTestWorker(env, {
      taskQueue,
      config,
      env: { KUBECONFIG: kube.writeKubeconfig(dir) },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await kube?.close();
  });

  it('scales to previous + increase_by once when the activity retries', async () => {
    const isScaleWrite = (r: { method: string; path: string }) =>
      (r.method === 'PATCH' || r.method === 'PUT') &&
      r.path.endsWith('/namespaces/data-platform/deployments/airflow-workers/scale');
    kube.failNext(
      isScaleWrite,
      { code: 500, reason: 'InternalError', message: 'etcdserver: leader changed' },
      { afterHandling: true },
    );
    const { incidentId } = await openIncident({ address: env.address, taskQueue, config, severity: 'P4' });
    const handle = env.client.workflow.getHandle(incidentId);
    await handle.signal(runRunbookSignal, { runbook: 'scale_up_workers', user: 'test', requestId: 'scale' });

    const view = await eventually(
      async () => {
        const v = await handle.query(incidentQuery);
        return v.runbook?.runbook === 'scale_up_workers' && v.runbook.status !== 'running' ? v : undefined;
      },
      90_000,
      'the scale runbook to finish',
    );
    expect(view.runbook).toMatchObject({ status: 'succeeded' });
    expect(view.runbook!.steps.scale).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      data: { previous: 3, target: 5, current: 5 },
    });
    expect(kube.deployment('data-platform', 'airflow-workers')!.spec).toMatchObject({ replicas: 5 });
    // One write reached the API server: the retry found 5 replicas and sent nothing.
    expect(kube.requests.filter(isScaleWrite)).toHaveLength(1);
    await handle.signal(resolveSignal, { user: 'test' });
  });
});

describe('a continue-as-new between recording the pool target and setting it', () => {
  let airflow: AirflowDouble;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const taskQueue = uniqueTaskQueue('pool-can');
  let config: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    airflow = await startAirflowDouble({ versions: ['v1'] });
    airflow.addPool({ name: 'staging', slots: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'incidentflow-pool-can-'));
    cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
    writeFileSync(
      join(dir, 'runbooks/raise_staging_pool.yaml'),
      `name: raise_staging_pool
title: Raise the staging pool by 5 slots (test)
risk: safe
match: { incident_types: [task_temporary_failure] }
steps:
  - id: raise_pool
    type: action
    action: airflow.set_pool_slots
    with: { pool: staging, increase_by: 5 }
`,
    );
    config = loadConfig(dir);
    worker = await startTestWorker(env, {
      taskQueue,
      config,
      env: {
        AIRFLOW_BASE_URL: airflow.url,
        AIRFLOW_USERNAME: 'admin',
        AIRFLOW_PASSWORD: 'admin',
        AIRFLOW_API_VERSION: 'v1',
      },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await airflow?.close();
  });

  it('reads in the first run, sets the recorded target in the next, and changes the pool once', async () => {
    // Hold the pool read until the run has decided to continue as new (it then starts no new activity).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let readArrived = false;
    airflow.onRequest(async (r) => {
      if (r.method === 'GET' && r.path.endsWith('/pools/staging') && !readArrived) {
        readArrived = true;
        await held;
      }
    });
    const { incidentId, runId: firstRunId } = await openIncident({
      address: env.address,
      taskQueue,
      config,
      severity: 'P4',
      settings: { maxSignalsPerRun: 3 },
    });
    const handle = env.client.workflow.getHandle(incidentId);
    // Signals 1 (the alert) and 2: the runbook; signal 3 (the comment) reaches the per-run budget.
    await handle.signal(runRunbookSignal, { runbook: 'raise_staging_pool', user: 'test', requestId: 'rb' });
    await eventually(() => Promise.resolve(readArrived ? true : undefined), 30_000, 'the pool read');
    await handle.signal(commentSignal, { user: 'test', text: 'watching the pool', requestId: 'c1' });
    // Once a workflow task completed after the comment, the run is draining for continue-as-new.
    const first = env.client.workflow.getHandle(incidentId, firstRunId);
    await eventually(
      async () => {
        const events = (await first.fetchHistory()).events ?? [];
        const signalled = events.findIndex(
          (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'comment',
        );
        return signalled >= 0 && events.slice(signalled).some((e) => e.workflowTaskCompletedEventAttributes)
          ? true
          : undefined;
      },
      30_000,
      'the comment to be processed',
    );
    release();

    const view = await eventually(
      async () => {
        const v = await handle.query(incidentQuery);
        return v.runbook?.runbook === 'raise_staging_pool' && v.runbook.status !== 'running' ? v : undefined;
      },
      60_000,
      'the runbook to finish in the next run',
    );
    expect(view.runbook).toMatchObject({ status: 'succeeded' });
    expect(view.runbook!.steps.raise_pool!.data).toMatchObject({ previous: 10, target: 15, current: 15 });
    expect(airflow.poolSlots('staging')).toBe(15);
    expect(airflow.requestsTo('PATCH', '/pools/staging')).toHaveLength(1);

    const scheduled = async (runId: string): Promise<string[]> =>
      ((await env.client.workflow.getHandle(incidentId, runId).fetchHistory()).events ?? []).flatMap((e) => {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        return name && name.startsWith('airflow') ? [name] : [];
      });
    const secondRunId = (await handle.describe()).runId;
    expect(secondRunId).not.toBe(firstRunId);
    expect(await scheduled(firstRunId)).toEqual(['airflowReadPool']);
    expect(await scheduled(secondRunId)).toEqual(['airflowSetPoolSlots']);
    await handle.signal(resolveSignal, { user: 'test' });
  });
});

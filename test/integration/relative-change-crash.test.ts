/**
 * Exactly-once relative changes on the real dev server, with the worker in its own process killed by
 * SIGKILL the instant its change reaches the API server: the change is applied, the worker dies before it
 * can report it, and a new worker's retry converges on the recorded target, so the pool / replica count is
 * `previous + increase_by`, changed once.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/load-config';
import type { IncidentView } from '../../src/domain/incident-view';
import { incidentQuery, resolveSignal, runRunbookSignal } from '../../src/workflows/definitions';
import { startAirflowDouble, type AirflowDouble } from '../doubles/airflow-double';
import { startKubeApiServerDouble, type KubeApiServerDouble } from '../doubles/kube-apiserver-double';
import { openIncident } from '../helpers/incident';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process-control';

const address = process.env.TEMPORAL_TEST_ADDRESS!;
let env: TestWorkflowEnvironment;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  env = await devServerEnv();
});

afterAll(async () => {
  for (const w of workers) await w.kill();
  await env?.teardown();
});

/** A copy of the shipped config with one more runbook. */
function configWithRunbook(name: string, yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-relative-'));
  cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
  writeFileSync(join(dir, 'runbooks', `${name}.yaml`), yaml);
  return dir;
}

async function spawn(options: Parameters<typeof spawnWorker>[0]): Promise<WorkerProcess> {
  const worker = await spawnWorker(options);
  workers.push(worker);
  return worker;
}

/** Starts `runbook` in a new incident, kills `first` when `isChange` arrives, then starts a second worker. */
async function runThroughCrash(options: {
  taskQueue: string;
  configDir: string;
  workerEnv: Record<string, string>;
  runbook: string;
  onChange: (kill: () => Promise<void>) => void;
}): Promise<IncidentView> {
  const { taskQueue, configDir, workerEnv, runbook } = options;
  const config = loadConfig(configDir);
  const first = await spawn({ address, taskQueue, configDir, env: workerEnv });
  let killed = false;
  options.onChange(async () => {
    killed = true;
    await first.kill();
  });
  const { incidentId } = await openIncident({ address, taskQueue, config, severity: 'P4' });
  const handle = env.client.workflow.getHandle(incidentId);
  await handle.signal(runRunbookSignal, { runbook, user: 'test', requestId: `crash-${runbook}` });
  await eventually(() => Promise.resolve(killed ? true : undefined), 60_000, 'the change to arrive');
  await spawn({ address, taskQueue, configDir, env: workerEnv });
  const view = await eventually(
    async () => {
      const v = await handle.query(incidentQuery);
      return v.runbook?.runbook === runbook && v.runbook.status !== 'running' ? v : undefined;
    },
    120_000,
    'the runbook to finish',
  );
  await handle.signal(resolveSignal, { user: 'test' });
  return view;
}

describe('a worker killed the instant its pool change reaches Airflow', () => {
  let airflow: AirflowDouble;

  beforeAll(async () => {
    airflow = await startAirflowDouble({ versions: ['v1'] });
    airflow.addPool({ name: 'warehouse', slots: 10, occupiedSlots: 10 });
  });
  afterAll(async () => {
    await airflow?.close();
  });

  it('raises the pool by increase_by exactly once after a new worker retries', async () => {
    const configDir = configWithRunbook(
      'raise_warehouse_pool',
      `name: raise_warehouse_pool
title: Raise the warehouse pool by 5 slots (crash test)
risk: safe
match: { incident_types: [task_temporary_failure] }
steps:
  - id: raise_pool
    type: action
    action: airflow.set_pool_slots
    with: { pool: warehouse, increase_by: 5 }
    timeout: 20s
`,
    );
    const view = await runThroughCrash({
      taskQueue: uniqueTaskQueue('crash-pool'),
      configDir,
      workerEnv: {
        AIRFLOW_BASE_URL: airflow.url,
        AIRFLOW_USERNAME: 'admin',
        AIRFLOW_PASSWORD: 'admin',
        AIRFLOW_API_VERSION: 'v1',
      },
      runbook: 'raise_warehouse_pool',
      // The hook runs before Airflow handles the PATCH: the worker is dead, then the pool changes.
      onChange: (kill) =>
        airflow.onRequest(async (r) => {
          if (r.method === 'PATCH' && r.path.endsWith('/pools/warehouse')) await kill();
        }),
    });

    expect(view.runbook).toMatchObject({ status: 'succeeded' });
    expect(view.runbook!.steps.raise_pool).toMatchObject({
      status: 'succeeded',
      data: { previous: 10, target: 15, current: 15 },
    });
    expect(airflow.poolSlots('warehouse')).toBe(15);
    expect(airflow.requestsTo('PATCH', '/pools/warehouse')).toHaveLength(1);
  });
});

describe('a worker killed the instant its scale reaches the API server', () => {
  let kube: KubeApiServerDouble;

  beforeAll(async () => {
    kube = await startKubeApiServerDouble();
    kube.seedDeployment({
      namespace: 'data-platform',
      name: 'airflow-workers',
      replicas: 3,
      revisions: [{ image: 'registry.local/airflow-workers:v2.3.1' }],
    });
  });
  afterAll(async () => {
    await kube?.close();
  });

  it('scales to previous + increase_by exactly once after a new worker retries', async () => {
    const configDir = configWithRunbook(
      'scale_up_workers',
      `name: scale_up_workers
title: Add two worker replicas (crash test)
risk: safe
match: { incident_types: [task_temporary_failure] }
steps:
  - id: scale
    type: action
    action: kubectl.scale
    with: { namespace: data-platform, deployment: airflow-workers, increase_by: 2 }
    timeout: 20s
`,
    );
    const isScaleWrite = (r: { method: string; path: string }) =>
      (r.method === 'PATCH' || r.method === 'PUT') &&
      r.path.endsWith('/namespaces/data-platform/deployments/airflow-workers/scale');
    const view = await runThroughCrash({
      taskQueue: uniqueTaskQueue('crash-scale'),
      configDir,
      workerEnv: { KUBECONFIG: kube.writeKubeconfig(configDir) },
      runbook: 'scale_up_workers',
      onChange: (kill) =>
        kube.onRequest(async (r) => {
          if (isScaleWrite(r)) await kill();
        }),
    });

    expect(view.runbook).toMatchObject({ status: 'succeeded' });
    expect(view.runbook!.steps.scale).toMatchObject({
      status: 'succeeded',
      data: { previous: 3, target: 5, current: 5 },
    });
    expect(kube.deployment('data-platform', 'airflow-workers')!.spec).toMatchObject({ replicas: 5 });
    expect(kube.requests.filter(isScaleWrite)).toHaveLength(1);
  });
});

/**
 * `airflow.pause_dag` records the DAGs it pauses before pausing them, so a pause that Airflow carried out
 * but whose response was lost is still resumed by the later `airflow.unpause_dag`, and a DAG someone else
 * had paused stays paused. Real activities against the Airflow double, on the time-skipping server.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/load-config';
import { incidentQuery, resolveSignal, runRunbookSignal } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { startAirflowDouble, type AirflowDouble } from '../doubles/airflow-double';
import { openIncident } from '../helpers/incident';
import { skippingClock } from '../helpers/skipping-clock';
import { eventually, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let airflow: AirflowDouble;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('pause-once');
let config: ReturnType<typeof loadConfig>;

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  airflow = await startAirflowDouble({ versions: ['v2'] });
  airflow.addDag({ dagId: 'orders', tasks: ['extract', 'load'] });
  airflow.addDag({ dagId: 'reporting', tasks: ['build_report'], isPaused: true });
  airflow.addDag({ dagId: 'ml_features', tasks: ['features'] });
  airflow.addDataset({
    uri: 's3://warehouse/orders',
    producers: [{ dagId: 'orders', taskId: 'load' }],
    consumers: ['reporting', 'ml_features'],
  });
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-pause-'));
  cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'runbooks/hold_downstream.yaml'),
    `name: hold_downstream
title: Pause the DAGs downstream of orders, then resume them (test)
risk: safe
match: { incident_types: [task_temporary_failure] }
steps:
  - id: pause
    type: action
    action: airflow.pause_dag
    with: { downstream_of: orders }
  - id: resume
    type: action
    action: airflow.unpause_dag
    with: { downstream_of: orders }
`,
  );
  config = loadConfig(dir);
  worker = await startTestWorker(env, {
    taskQueue,
    config,
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
  await env?.teardown();
});

it('resumes the DAG whose pause response was lost, and leaves the DAG paused by someone else paused', async () => {
  // Airflow pauses ml_features but answers 500: the activity's retry finds it paused already.
  const lost = airflow.injectFault({ method: 'PATCH', path: '/dags/ml_features', afterHandling: true });
  const { incidentId } = await openIncident({ address: env.address, taskQueue, config, severity: 'P4' });
  const handle = env.client.workflow.getHandle(incidentId);
  await handle.signal(runRunbookSignal, { runbook: 'hold_downstream', user: 'test', requestId: 'hold' });

  const view = await eventually(
    async () => {
      const v = await handle.query(incidentQuery);
      return v.runbook?.runbook === 'hold_downstream' && v.runbook.status !== 'running' ? v : undefined;
    },
    90_000,
    'the runbook to finish',
  );
  expect(lost.hits()).toBe(1);
  expect(view.runbook).toMatchObject({ status: 'succeeded' });
  expect(view.runbook!.steps.pause!.data).toMatchObject({
    dagIds: ['ml_features', 'reporting'],
    pausedDagIds: ['ml_features'],
    changed: 1,
  });
  expect(view.runbook!.steps.resume!.data).toMatchObject({ dagIds: ['ml_features'], changed: 1 });
  expect([airflow.isPaused('ml_features'), airflow.isPaused('reporting')]).toEqual([false, true]);
  // reporting was never patched: it was paused before the incident.
  expect(airflow.requestsTo('PATCH', '/dags/reporting')).toEqual([]);
  await handle.signal(resolveSignal, { user: 'test' });
});

/**
 * End to end, with real parts except Airflow: a check set fails on a real PostgreSQL table → the API's
 * `POST /api/v1/checks/{name}/run?wait=true` runs `dataQualityWorkflow` on a real worker → its alert opens a
 * `data_quality_violation` incident through the ingress path → the incident's shipped runbook pauses the
 * DAGs downstream of the producing DAG on the Airflow double, asks for approval, and after the on-call
 * primary approves (the `approve` signal) unpauses them.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveRole } from '../../src/domain/oncall';
import type { IncidentView } from '../../src/domain/incident-view';
import { approveSignal, incidentQuery } from '../../src/workflows/definitions';
import type { DataQualityWorkflowResult } from '../../src/workflows/data-quality';
import { type AirflowDouble, startAirflowDouble } from '../doubles/airflow-double';
import { buildTestApp } from '../helpers/app';
import {
  dataQualityAlertActivities,
  tempConfigDir,
  uniqueSuffix,
  WAREHOUSE_ENV,
  warehouseSchema,
} from '../helpers/data-quality-fixture';
import { openTestStore, type TestStore } from '../helpers/store';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const TOKEN = 'dq-e2e-t0k3n';
const DOWNSTREAM = ['customer_marts', 'customer_ml_features'];
const checkSet = `customers_e2e_${uniqueSuffix()}`;
const taskQueue = uniqueTaskQueue('dq-e2e');

let env: TestWorkflowEnvironment;
let airflow: AirflowDouble;
let stored: TestStore;
let warehouse: Awaited<ReturnType<typeof warehouseSchema>>;
let configDir: ReturnType<typeof tempConfigDir>;
let testApp: ReturnType<typeof buildTestApp>;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let incidentId: string | undefined;

beforeAll(async () => {
  env = await devServerEnv();
  airflow = await startAirflowDouble();
  for (const dagId of ['customer_etl', ...DOWNSTREAM])
    airflow.addDag({ dagId, tasks: ['extract', 'transform', 'load'] });
  airflow.addDataset({
    uri: 'postgres://warehouse/public/customers',
    producers: [{ dagId: 'customer_etl', taskId: 'load' }],
    consumers: DOWNSTREAM,
  });

  warehouse = await warehouseSchema('dqe2e');
  await warehouse.sql.query(
    `CREATE TABLE ${warehouse.schema}.customers (id bigint, email text, updated_at timestamptz)`,
  );
  await warehouse.sql.query(
    `INSERT INTO ${warehouse.schema}.customers SELECT i, 'u' || i || '@example.com', now() FROM generate_series(1, 850) AS i`,
  );
  configDir = tempConfigDir([
    {
      name: checkSet,
      description: 'Customer table loaded by customer_etl',
      table: `${warehouse.schema}.customers`,
      schedule: '*/30 * * * *',
      owners: [{ person: 'alice' }, { slack_channel: '#customer-data' }],
      dag_id: 'customer_etl',
      downstream_dags: DOWNSTREAM,
      severity: 'P1',
      checks: ['row_count > 0', 'row_count between 1000 and 1500000', 'freshness(updated_at) < 2h'],
    },
  ]);
  stored = await openTestStore('postgres');
  await stored.store.migrate();
  testApp = buildTestApp({
    address: process.env.TEMPORAL_TEST_ADDRESS!,
    taskQueue,
    token: TOKEN,
    config: configDir.config,
    store: stored.store,
    settings: { features: { slack: false, store: true, pagerduty: false, alertmanager: false } },
  });
  worker = await startTestWorker(env, {
    taskQueue,
    env: {
      [WAREHOUSE_ENV]: warehouse.url,
      AIRFLOW_BASE_URL: airflow.url,
      AIRFLOW_USERNAME: 'admin',
      AIRFLOW_PASSWORD: 'admin',
    },
    config: configDir.config,
    store: stored.store,
    activities: dataQualityAlertActivities(testApp.starter, configDir.config, stored.store),
  });
});

afterAll(async () => {
  if (incidentId) {
    await env?.client.workflow
      .getHandle(incidentId)
      .terminate('test finished')
      .catch(() => undefined);
  }
  await worker?.stop();
  await testApp?.close();
  await stored?.cleanup();
  await warehouse?.drop();
  configDir?.cleanup();
  await airflow?.close();
  await env?.teardown();
});

/** The incident view, with the timeline attached to the error when `check` does not hold in time. */
async function waitForIncident(what: string, check: (v: IncidentView) => boolean): Promise<IncidentView> {
  const handle = env.client.workflow.getHandle(incidentId!);
  try {
    return await eventually(
      async () => {
        const v = await handle.query(incidentQuery);
        return check(v) ? v : undefined;
      },
      30_000,
      what,
    );
  } catch (err) {
    const v = await handle.query(incidentQuery).catch(() => undefined);
    const timeline = v?.timeline.map((t) => `${t.at} ${t.kind}: ${t.text}`).join('\n') ?? '(no view)';
    throw new Error(`${(err as Error).message}\nincident timeline:\n${timeline}`);
  }
}

function pausePatches(dagId: string): unknown[] {
  return airflow
    .requestsTo('PATCH', `/dags/${dagId}`)
    .filter((r) => r.status === 200)
    .map((r) => r.body);
}

describe('a failing data-quality check set', () => {
  it('opens a P1 data_quality_violation incident keyed by the check set', async () => {
    const res = await testApp.app.inject({
      method: 'POST',
      url: `/api/v1/checks/${checkSet}/run?wait=true`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      payload: { source: 'airflow', dag_id: 'customer_etl', task_id: 'load', run_id: 'manual__e2e' },
    });
    expect(res.statusCode).toBe(200);
    const result = res.json<{ result: DataQualityWorkflowResult }>().result;
    expect(result.outcome).toBe('fail');
    expect(result.summary).toBe(
      `${checkSet} on ${warehouse.schema}.customers: 1 of 3 checks failed: row_count 850 is not between 1000 and 1500000`,
    );
    incidentId = result.alerts[0]!.incidents[0]!.incidentId;
    expect(incidentId).toBe(`incident:${warehouse.schema}.customers:dq/${checkSet}`);

    const view = await waitForIncident('the incident to take the alert', (v) => v.alerts.length > 0);
    expect(view).toMatchObject({
      incidentType: 'data_quality_violation',
      severity: 'P1',
      dedupKey: `dq/${checkSet}`,
      routing: { rule: 'data-quality', runbook: 'data_quality_violation' },
    });
    expect(view.alerts[0]).toMatchObject({
      name: 'DataQualityCheckFailed',
      source: 'data_quality',
      status: 'firing',
      labels: {
        check_set: checkSet,
        dag_id: 'customer_etl',
        downstream_dags: DOWNSTREAM.join(','),
        incident_type: 'data_quality_violation',
      },
    });
  });

  it('pauses the downstream DAGs and waits for approval to resume them', async () => {
    await eventually(
      () => Promise.resolve(DOWNSTREAM.every((d) => airflow.isPaused(d)) ? true : undefined),
      30_000,
      'the downstream DAGs to be paused',
    ).catch(async (err: Error) => {
      await waitForIncident(err.message, () => false);
    });
    for (const dagId of DOWNSTREAM) expect(pausePatches(dagId)).toEqual([{ is_paused: true }]);
    expect(airflow.isPaused('customer_etl')).toBe(false);
    const view = await waitForIncident('the approval request', (v) =>
      v.pendingApprovals.some((a) => a.stepId === 'approve_resume'),
    );
    expect(view.runbook?.runbook).toBe('data_quality_violation');
  });

  it('unpauses the DAGs after the on-call primary approves', async () => {
    const [primary] = resolveRole(configDir.config.oncall, 'primary', Date.now());
    expect(primary).toBeDefined();
    await env.client.workflow.getHandle(incidentId!).signal(approveSignal, {
      stepId: 'approve_resume',
      decision: 'approve',
      user: primary!,
      via: 'api',
      requestId: `e2e-approve-${checkSet}`,
    });
    await eventually(
      () => Promise.resolve(DOWNSTREAM.every((d) => !airflow.isPaused(d)) ? true : undefined),
      30_000,
      'the downstream DAGs to be unpaused',
    ).catch(async (err: Error) => {
      await waitForIncident(err.message, () => false);
    });
    for (const dagId of DOWNSTREAM)
      expect(pausePatches(dagId)).toEqual([{ is_paused: true }, { is_paused: false }]);
    const view = await waitForIncident('the runbook to finish', (v) => v.runbook?.status === 'succeeded');
    expect(view.runbook?.steps.approve_resume?.approval).toMatchObject({ status: 'approved' });
  });
});

/**
 * The data-quality workflow with real parts: PostgreSQL at TEST_DATABASE_URL (checked tables and the
 * incident store, each in a schema of its own), the Temporal dev server, the real activities, the real
 * API (`POST /api/v1/checks/{name}/run`) and the real incident workflow that its alerts open.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestStore } from '../helpers/store';
import { openTestStore } from '../helpers/store';
import { buildTestApp } from '../helpers/app';
import {
  dataQualityAlertActivities,
  tempConfigDir,
  uniqueSuffix,
  WAREHOUSE_ENV,
  warehouseSchema,
} from '../helpers/data-quality-fixture';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';
import { incidentQuery } from '../../src/workflows/definitions';
import type { DataQualityWorkflowResult } from '../../src/workflows/data-quality';

const TOKEN = 'dq-t0k3n';
const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
const suffix = uniqueSuffix();
const names = {
  flapping: `dq_flip_${suffix}`,
  warning: `dq_warn_${suffix}`,
  broken: `dq_broken_${suffix}`,
  airflow: `dq_airflow_${suffix}`,
};

let env: TestWorkflowEnvironment;
let stored: TestStore;
let warehouse: Awaited<ReturnType<typeof warehouseSchema>>;
let configDir: ReturnType<typeof tempConfigDir>;
let testApp: ReturnType<typeof buildTestApp>;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('dq');
const started: string[] = [];

beforeAll(async () => {
  env = await devServerEnv();
  warehouse = await warehouseSchema();
  const s = warehouse.schema;
  await warehouse.sql.query(`CREATE TABLE ${s}.flip (id integer, updated_at timestamptz)`);
  await warehouse.sql.query(`INSERT INTO ${s}.flip VALUES (1, now())`);
  await warehouse.sql.query(`CREATE TABLE ${s}.warn (id integer, email text)`);
  await warehouse.sql.query(`INSERT INTO ${s}.warn VALUES (1, 'a@example.com')`);
  configDir = tempConfigDir([
    {
      name: names.flapping,
      table: `${s}.flip`,
      dag_id: `flip_etl_${suffix}`,
      checks: ['row_count between 3 and 5'],
    },
    {
      name: names.warning,
      table: `${s}.warn`,
      checks: ['row_count > 0', { schema: { warn: { 'when required column missing': ['phone'] } } }],
    },
    {
      name: names.broken,
      table: `${s}.warn`,
      dag_id: `broken_etl_${suffix}`,
      data_source: { connection_env: 'DQ_TEST_UNSET_URL' },
      checks: ['row_count > 0'],
    },
    { name: names.airflow, table: `${s}.warn`, checks: ['row_count > 0'] },
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
    env: { [WAREHOUSE_ENV]: warehouse.url },
    config: configDir.config,
    store: stored.store,
    activities: dataQualityAlertActivities(testApp.starter, configDir.config, stored.store),
  });
});

afterAll(async () => {
  for (const id of started) {
    await env?.client.workflow
      .getHandle(id)
      .terminate('test finished')
      .catch(() => undefined);
  }
  await worker?.stop();
  await testApp?.close();
  await stored?.cleanup();
  await warehouse?.drop();
  configDir?.cleanup();
  await env?.teardown();
});

async function runNow(
  name: string,
  payload: Record<string, unknown> = {},
): Promise<{ status: number; body: Record<string, unknown> & { result?: DataQualityWorkflowResult } }> {
  const res = await testApp.app.inject({
    method: 'POST',
    url: `/api/v1/checks/${name}/run?wait=true`,
    headers,
    payload,
  });
  return { status: res.statusCode, body: res.json() };
}

describe('dataQualityWorkflow through POST /api/v1/checks/{name}/run', () => {
  it('resolves the violation alert of its incident when the check set passes after a failure', async () => {
    const failed = await runNow(names.flapping);
    expect(failed.status).toBe(200);
    expect(failed.body.result).toMatchObject({ outcome: 'fail', trigger: 'manual' });
    const raised = failed.body.result!.alerts;
    expect(raised.map((a) => [a.name, a.status])).toEqual([['DataQualityCheckFailed', 'firing']]);
    const incidentId = raised[0]!.incidents[0]!.incidentId;
    expect(incidentId).toBe(`incident:${warehouse.schema}.flip:dq/${names.flapping}`);
    started.push(incidentId);
    const firing = await eventually(async () => {
      const v = await env.client.workflow.getHandle(incidentId).query(incidentQuery);
      return v.alerts.length > 0 ? v : undefined;
    });
    expect(firing.alerts.map((a) => [a.name, a.status])).toEqual([['DataQualityCheckFailed', 'firing']]);

    await warehouse.sql.query(`INSERT INTO ${warehouse.schema}.flip VALUES (2, now()), (3, now())`);
    const passed = await runNow(names.flapping);
    expect(passed.body.result).toMatchObject({ outcome: 'pass' });
    expect(passed.body.result!.alerts).toEqual([
      {
        name: 'DataQualityCheckFailed',
        fingerprint: raised[0]!.fingerprint,
        status: 'resolved',
        incidents: [expect.objectContaining({ incidentId, outcome: 'signaled' })],
        duplicates: 0,
      },
    ]);
    const resolved = await eventually(async () => {
      const v = await env.client.workflow.getHandle(incidentId).query(incidentQuery);
      return v.alerts[0]?.status === 'resolved' ? v : undefined;
    });
    expect(resolved.alerts).toHaveLength(1);

    const third = await runNow(names.flapping);
    expect(third.body.result).toMatchObject({ outcome: 'pass', alerts: [] });
  });

  it('records a warning without raising any alert or opening an incident', async () => {
    const warned = await runNow(names.warning);
    expect(warned.body.result).toMatchObject({
      outcome: 'warn',
      alerts: [],
      summary: `${names.warning} on ${warehouse.schema}.warn: 1 of 2 checks warned: required column missing: phone`,
    });
    const incident = `incident:${warehouse.schema}.warn:dq/${names.warning}`;
    await expect(env.client.workflow.getHandle(incident).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
  });

  it('raises the distinct P3 DataQualityCheckError when the check set cannot run', async () => {
    const errored = await runNow(names.broken);
    expect(errored.body.result).toMatchObject({
      outcome: 'error',
      summary: `${names.broken} on ${warehouse.schema}.warn: could not run: environment variable DQ_TEST_UNSET_URL is not set`,
    });
    const raised = errored.body.result!.alerts;
    expect(raised.map((a) => [a.name, a.status])).toEqual([['DataQualityCheckError', 'firing']]);
    const incidentId = raised[0]!.incidents[0]!.incidentId;
    expect(incidentId).toBe(`incident:broken_etl_${suffix}:dq_error/${names.broken}`);
    started.push(incidentId);
    const view = await eventually(async () => {
      const v = await env.client.workflow.getHandle(incidentId).query(incidentQuery);
      return v.alerts.length > 0 ? v : undefined;
    });
    expect(view).toMatchObject({
      severity: 'P3',
      incidentType: 'data_quality_check_error',
      dedupKey: `dq_error/${names.broken}`,
      routing: { runbook: null },
    });
    // No data-quality violation is declared for data nobody could look at.
    const violation = `incident:${warehouse.schema}.warn:dq/${names.broken}`;
    await expect(env.client.workflow.getHandle(violation).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
  });

  it('runs once per Airflow DAG run: a repeated callback answers with the same run', async () => {
    const trigger = {
      source: 'airflow',
      dag_id: 'customer_etl',
      task_id: 'load',
      run_id: 'scheduled__2026-05-01T00:00:00+00:00',
    };
    const first = await runNow(names.airflow, trigger);
    const workflowId = `data-quality:${names.airflow}:airflow:customer_etl:scheduled__2026-05-01T00:00:00+00:00`;
    expect(first.body).toMatchObject({ workflowId, status: 'completed', trigger: 'airflow' });
    expect(first.body.existing).toBeUndefined();
    const again = await runNow(names.airflow, trigger);
    expect(again.body).toMatchObject({
      workflowId,
      runId: first.body.runId,
      existing: true,
      status: 'completed',
    });
    expect(again.body.result!.runKey).toBe(first.body.result!.runKey);
    const runs = await stored.store
      .sqlClient()
      .query('SELECT run_key FROM dq_runs WHERE check_set = $1', [names.airflow]);
    expect(runs.rows).toEqual([{ run_key: `${workflowId}/${String(first.body.runId)}` }]);
  });

  it('answers 202 with the workflow id without waiting', async () => {
    const res = await testApp.app.inject({
      method: 'POST',
      url: `/api/v1/checks/${names.warning}/run`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ workflowId: string; status: string }>();
    expect(body.status).toBe('started');
    expect(body.workflowId).toMatch(new RegExp(`^data-quality:${names.warning}:\\d{4}-\\d\\d-\\d\\dT`));
    const result = await env.client.workflow.getHandle(body.workflowId).result();
    expect((result as DataQualityWorkflowResult).outcome).toBe('warn');
  });

  it('answers 202 "running" when the result does not come within the wait bound', async () => {
    const idle = buildTestApp({
      address: process.env.TEMPORAL_TEST_ADDRESS!,
      taskQueue: uniqueTaskQueue('dq-nobody-polls'),
      token: TOKEN,
      config: configDir.config,
      checkWaitTimeoutMs: 300,
    });
    try {
      const res = await idle.app.inject({
        method: 'POST',
        url: `/api/v1/checks/${names.warning}/run?wait=true`,
        headers,
        payload: {},
      });
      expect(res.statusCode).toBe(202);
      const body = res.json<{ workflowId: string; status: string; message: string }>();
      started.push(body.workflowId);
      expect(body.status).toBe('running');
      expect(body.message).toBe(`still running after 300ms; follow workflow ${body.workflowId}`);
    } finally {
      await idle.close();
    }
  });

  it.each([
    [{ source: 'airflow', dag: 'x' }, 400, 'invalid body: (body): Unrecognized key: "dag"'],
    [{ source: 'cron' }, 400, 'invalid body: source: Invalid option: expected one of "airflow"|"manual"'],
  ])('rejects the body %j', async (payload, status, message) => {
    const res = await testApp.app.inject({
      method: 'POST',
      url: `/api/v1/checks/${names.warning}/run`,
      headers,
      payload,
    });
    expect(res.statusCode).toBe(status);
    expect(res.json().message).toBe(message);
  });

  it('answers 404 for an unknown check set', async () => {
    const res = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/checks/no_such_set/run',
      headers,
      payload: {},
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: 'not_found',
      message: 'unknown data-quality check set "no_such_set"',
    });
  });

  it('answers 401 without the bearer token', async () => {
    const res = await testApp.app.inject({ method: 'POST', url: `/api/v1/checks/${names.warning}/run` });
    expect(res.statusCode).toBe(401);
  });
});

describe('GET /api/v1/checks', () => {
  it('lists the check sets with their schedules and last results', async () => {
    const res = await testApp.app.inject({ method: 'GET', url: '/api/v1/checks', headers });
    expect(res.statusCode).toBe(200);
    const sets = res.json<{ checkSets: Array<Record<string, unknown>> }>().checkSets;
    expect(sets.map((s) => s.name)).toEqual(Object.values(names).sort());
    expect(sets.find((s) => s.name === names.warning)).toMatchObject({
      table: `${warehouse.schema}.warn`,
      schedule: '@hourly',
      scheduleId: `data-quality:${names.warning}`,
      severity: 'P1',
      checks: ['row_count > 0', 'schema'],
      lastRun: { outcome: 'warn' },
    });
  });
});

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentQuery } from '../../src/workflows/definitions';
import { uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
const taskQueue = uniqueTaskQueue('generic');

beforeAll(async () => {
  env = await devServerEnv();
  worker = await startTestWorker(env, { taskQueue });
  testApp = buildTestApp({ address: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue, token: 't0k3n' });
});

afterAll(async () => {
  await testApp?.close();
  await worker?.stop();
  await env?.teardown();
});

const headers = { 'content-type': 'application/json', authorization: 'Bearer t0k3n' };

describe('POST /api/v1/alerts', () => {
  it('opens an incident from an Airflow callback alert and resolves its alert by the same identity', async () => {
    const key = uniqueKey('cb');
    const alert = {
      name: 'AirflowTaskFailed',
      source: 'airflow',
      severity: 'P2',
      labels: {
        dag_id: 'customer_etl',
        task_id: 'transform',
        run_id: 'scheduled__2026-11-25T09:00:00+00:00',
      },
      summary: 'customer_etl.transform failed (try 1)',
      dedup_key: key,
    };
    const res = await testApp.app.inject({ method: 'POST', url: '/api/v1/alerts', headers, payload: alert });
    expect(res.statusCode).toBe(202);
    const id = res.json().incidents[0].incidentId as string;
    // Routing rule airflow-task-failure-callback applies: one incident per DAG and task.
    expect(id).toBe('incident:customer_etl:task_failure/customer_etl/transform');
    const resolved = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/alerts',
      headers,
      payload: { ...alert, status: 'resolved' },
    });
    expect(resolved.statusCode).toBe(202);
    const view = await eventually(async () => {
      const v = await env.client.workflow.getHandle(id).query(incidentQuery);
      return v.alerts[0]?.status === 'resolved' ? v : undefined;
    });
    expect(view.alerts).toHaveLength(1);
    expect(view.incidentType).toBe('task_temporary_failure');
    expect(view.routing.runbook).toBe('task_temporary_failure');
  });

  it.each([
    [{ labels: {} }, 'name: '],
    [{ name: 'x', status: 'exploded' }, 'status: '],
    [{ name: 'x', lables: {} }, 'Unrecognized key: "lables"'],
    [{ name: 'x', labels: { 'bad-label': 'v' } }, 'labels.bad-label'],
    [{ alerts: [] }, 'alerts: '],
  ])('rejects %j naming the field', async (payload, message) => {
    const res = await testApp.app.inject({ method: 'POST', url: '/api/v1/alerts', headers, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain(message);
  });
});

describe('POST /api/v1/events/deployments', () => {
  it('records a deployment marker once', async () => {
    const event = { service: 'customer_etl', version: 'v2.3.1', time: '2026-11-25T09:15:00+09:00' };
    const first = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/events/deployments',
      headers,
      payload: event,
    });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ recorded: true, deployment: { time: '2026-11-25T00:15:00.000Z' } });
    const again = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/events/deployments',
      headers,
      payload: event,
    });
    expect(again.json()).toMatchObject({ recorded: false });
    expect(testApp.deployments.events).toHaveLength(1);
  });

  it('rejects a marker without a version', async () => {
    const res = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/events/deployments',
      headers,
      payload: { service: 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/version: /);
  });
});

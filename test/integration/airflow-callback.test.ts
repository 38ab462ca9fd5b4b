/**
 * integrations/airflow/incidentflow_callbacks.py under python3, against the real API (listening on a port)
 * and a real Temporal worker; plus its Python unit tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentQuery } from '../../src/workflows/definitions';
import { buildTestApp } from '../helpers/app';
import { freePort } from '../helpers/ports';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const TOKEN = 'airflow-callback-token';
const AIRFLOW_DIR = resolve(__dirname, '../../integrations/airflow');
const DRIVER = resolve(AIRFLOW_DIR, 'tests/run_callback.py');

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
let apiUrl: string;
const taskQueue = uniqueTaskQueue('airflow-cb');

beforeAll(async () => {
  env = await devServerEnv();
  worker = await startTestWorker(env, { taskQueue });
  testApp = buildTestApp({
    address: process.env.TEMPORAL_TEST_ADDRESS!,
    taskQueue,
    token: TOKEN,
    settings: { autoResolveGraceMs: 1_000 },
  });
  await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(testApp.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await testApp?.close();
  await worker?.stop();
  await env?.teardown();
});

interface DriverRun {
  status: number | null;
  returned: unknown;
  seconds: number;
  log: string;
}

/**
 * Runs one callback under python3 the way Airflow calls it, with incidentflow's environment variables.
 * Asynchronous: the API under test answers from this same process.
 */
async function callback(args: string[], envOverrides: Record<string, string> = {}): Promise<DriverRun> {
  const child = spawn('python3', [DRIVER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      INCIDENTFLOW_URL: apiUrl,
      INCIDENTFLOW_INGEST_TOKEN: TOKEN,
      INCIDENTFLOW_TIMEOUT_SECONDS: '5',
      INCIDENTFLOW_RETRIES: '2',
      INCIDENTFLOW_BACKOFF_SECONDS: '0.05',
      ...envOverrides,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolveExit, reject) => {
    child.once('error', (err) => reject(new Error(`python3 could not run: ${err.message}`)));
    child.once('close', (code) => resolveExit(code));
  });
  const last = stdout.trim().split('\n').pop() || '{}';
  const parsed = JSON.parse(last) as { returned: unknown; seconds: number };
  return { status, ...parsed, log: stderr };
}

function dagId(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

function receivedCount(metrics: string, source: string, outcome: string): number {
  const match = new RegExp(
    `incidentflow_alerts_received_total\\{source="${source}",outcome="${outcome}"\\} (\\d+)`,
  ).exec(metrics);
  return Number(match?.[1] ?? NaN);
}

describe('Airflow callbacks against the real API', () => {
  it('on_failure_callback opens the task incident with the task identity as labels', async () => {
    const dag = dagId('customer_etl');
    const run = await callback([
      'failure',
      dag,
      'transform',
      'scheduled__2026-11-25T09:00:00+00:00',
      '1',
      'x'.repeat(2000),
    ]);
    expect(run.status).toBe(0);
    expect(run.returned).toBeNull();
    expect(run.log).toContain('reported failure');

    const id = `incident:${dag}:task_failure/${dag}/transform`;
    const view = await eventually(() => env.client.workflow.getHandle(id).query(incidentQuery));
    expect(view).toMatchObject({
      incidentType: 'task_temporary_failure',
      severity: 'P2',
      service: dag,
      routing: { rule: 'airflow-task-failure-callback', runbook: 'task_temporary_failure' },
    });
    expect(view.alerts).toHaveLength(1);
    const alert = view.alerts[0]!;
    expect(alert).toMatchObject({ name: 'AirflowTaskFailed', source: 'airflow', status: 'firing' });
    expect(alert.labels).toEqual({
      alertname: 'AirflowTaskFailed',
      dag_id: dag,
      task_id: 'transform',
      run_id: 'scheduled__2026-11-25T09:00:00+00:00',
      try_number: '1',
      operator: 'PythonOperator',
    });
    expect(alert.summary).toMatch(new RegExp(`^${dag}\\.transform failed \\(try 1\\): RuntimeError: x+…$`));
    expect(alert.summary.length).toBeLessThan(560);
    expect(alert.generatorURL).toBe(
      `http://airflow.example:8080/dags/${dag}/grid?task_id=transform&tab=logs`,
    );
  });

  it('on_success_callback of a successful retry resolves the alert and so the incident', async () => {
    const dag = dagId('orders_etl');
    const runId = 'manual__2026-11-25T10:00:00+00:00';
    expect((await callback(['failure', dag, 'load', runId, '1', 'connection reset'])).status).toBe(0);
    const id = `incident:${dag}:task_failure/${dag}/load`;
    const handle = env.client.workflow.getHandle(id);
    await eventually(() => handle.query(incidentQuery));

    const success = await callback(['success', dag, 'load', runId, '2']);
    expect(success.status).toBe(0);
    const outcome = await handle.result();
    expect(outcome).toMatchObject({ status: 'resolved', resolution: 'auto' });
    const view = await handle.query(incidentQuery);
    expect(view.alerts.map((a) => a.status)).toEqual(['resolved']);
  });

  it('sla_miss_callback opens the P1 SLA incident of the DAG', async () => {
    const dag = dagId('sla_etl');
    expect((await callback(['sla', dag, 'load'])).status).toBe(0);
    const view = await eventually(() =>
      env.client.workflow.getHandle(`incident:${dag}:sla/${dag}`).query(incidentQuery),
    );
    expect(view).toMatchObject({
      incidentType: 'sla_miss',
      severity: 'P1',
      routing: { runbook: 'sla_miss' },
    });
    expect(view.alerts[0]).toMatchObject({
      name: 'AirflowSlaMiss',
      summary: `DAG ${dag} missed its SLA: load`,
    });
  });

  it('the Airflow 3 deadline callback joins the same SLA incident as an SLA miss', async () => {
    const dag = dagId('deadline_etl');
    expect((await callback(['sla', dag, 'extract'])).status).toBe(0);
    expect((await callback(['deadline', dag, 'scheduled__2026-11-25T09:00:00+00:00'])).status).toBe(0);
    const view = await eventually(async () => {
      const v = await env.client.workflow.getHandle(`incident:${dag}:sla/${dag}`).query(incidentQuery);
      return v.alerts.length === 2 ? v : undefined;
    });
    expect(view.alerts.map((a) => a.name).sort()).toEqual(['AirflowDagDeadlineMissed', 'AirflowSlaMiss']);
    expect(view.severity).toBe('P1');
  });

  it('a wrong token is logged once, not retried, and does not raise', async () => {
    const before = receivedCount(await (await fetch(`${apiUrl}/metrics`)).text(), 'generic', 'rejected');
    const run = await callback(['failure', dagId('bad_token'), 't', 'r', '1', 'boom'], {
      INCIDENTFLOW_INGEST_TOKEN: 'wrong',
    });
    expect(run.status).toBe(0);
    expect(run.log).toContain('answered 401');
    expect(run.log).toContain('check INCIDENTFLOW_INGEST_TOKEN');
    expect(run.log).not.toContain('wrong');
    const after = receivedCount(await (await fetch(`${apiUrl}/metrics`)).text(), 'generic', 'rejected');
    expect(after - before).toBe(1);
  });

  it('retries an API answering 503 (Temporal unreachable) with backoff, then gives up without raising', async () => {
    const down = buildTestApp({ address: '127.0.0.1:1', taskQueue, token: TOKEN, callTimeoutMs: 300 });
    try {
      await down.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(down.app.server.address() as AddressInfo).port}`;
      const run = await callback(['failure', dagId('down'), 't', 'r', '1', 'boom'], {
        INCIDENTFLOW_URL: url,
      });
      expect(run.status).toBe(0);
      expect(run.returned).toBeNull();
      expect(run.log).toMatch(/HTTP 503 .*retry 1\/2/);
      expect(run.log).toContain('after 3 attempts');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(receivedCount(metrics, 'airflow', 'unavailable')).toBe(3);
    } finally {
      await down.close();
    }
  });

  it('returns quickly without raising when nothing listens at INCIDENTFLOW_URL', async () => {
    const port = await freePort();
    const run = await callback(['failure', dagId('nobody'), 't', 'r', '1', 'boom'], {
      INCIDENTFLOW_URL: `http://127.0.0.1:${port}`,
    });
    expect(run.status).toBe(0);
    expect(run.returned).toBeNull();
    expect(run.seconds).toBeLessThan(3);
    expect(run.log).toContain('giving up');
  });
});

describe('Python unit tests of the callbacks', () => {
  it('python3 -m unittest passes', () => {
    const result = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'tests', '-v'], {
      cwd: AIRFLOW_DIR,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (result.error) throw new Error(`python3 could not run: ${result.error.message}`);
    expect(result.stderr).toMatch(/Ran \d+ tests/);
    expect(result.stderr).toMatch(/\nOK\s*$/);
    expect(result.status).toBe(0);
  });
});

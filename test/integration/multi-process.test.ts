/**
 * Several processes side by side, as a scaled-out installation runs them: two `--role=worker` and two
 * `--role=api` processes of the real entry point (src/main.ts), one Temporal dev server (a namespace of
 * this test's own) and one PostgreSQL store (a schema of this test's own). The same alerts are posted to
 * both APIs at once; a worker is SIGKILLed while it clears a task in Airflow (scenario 1, a transient
 * task failure: the first retry fails again, the second succeeds after the 30 s backoff). Afterwards there
 * is exactly one incident per dedup key, it holds every alert, the doubles saw every side effect exactly
 * once, and every incident workflow completes once resolved.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { Client as PgClient } from 'pg';
import type { IncidentSummary } from '../../src/api/incident-actions';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { incidentQuery, resolveSignal } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { startAirflowDouble, type AirflowDouble } from '../doubles/airflow-double';
import { startPagerDutyDouble, type PagerDutyDouble } from '../doubles/pagerduty-double';
import { alertmanagerPayload, type FakeAlert } from '../helpers/alerts';
import { type IncidentflowProcess, startIncidentflow } from '../helpers/incidentflow-process';
import { startPagingDoubles, type PagingDoubles } from '../helpers/paging-doubles';
import { freePort } from '../helpers/ports';
import { testDatabaseUrl } from '../helpers/store';
import { eventually } from '../helpers/temporal';

jest.setTimeout(15 * 60_000);

const address = process.env.TEMPORAL_TEST_ADDRESS!;
const suffix = randomBytes(4).toString('hex');
const NAMESPACE = `multi-process-${suffix}`;
const SCHEMA = `multi_process_${suffix}`;
const RUN_ID = 'scheduled__2026-11-25T09:00:00+00:00';
const PD_ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
/** One failing DAG per dedup key (routing: `failure_rate/<dag_id>`). */
const DAGS = ['orders', 'customers', 'payments', 'invoices'].map((d) => `${d}_etl_${suffix}`);
const ALERTS_PER_DAG = 4;
const PENDING_ACTIVITY_STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

let connection: Connection;
let client: Client;
let paging: PagingDoubles;
let airflow: AirflowDouble;
let pagerduty: PagerDutyDouble;
let configDir: string;
let dataDir: string;
const processes: IncidentflowProcess[] = [];

/** Fingerprint of the i-th alert of a DAG: unique across the test. */
function fingerprint(dag: string, i: number): string {
  return createHash('sha256').update(`${dag}/${i}`).digest('hex').slice(0, 16);
}

function alertsOf(dag: string): FakeAlert[] {
  return Array.from({ length: ALERTS_PER_DAG }, (_, i) => ({
    fingerprint: fingerprint(dag, i),
    labels: {
      alertname: 'AirflowTaskFailureRateHigh',
      dag_id: dag,
      task_id: 'transform',
      severity: 'P2',
      instance: `airflow-worker-${i}`,
    },
    annotations: { summary: `${dag}: task failure rate > 50% for 5m` },
  }));
}

/** The database URL that puts every connection of a process into this test's schema. */
function schemaDatabaseUrl(): string {
  const url = new URL(testDatabaseUrl());
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}

async function withPg<T>(fn: (pg: PgClient) => Promise<T>): Promise<T> {
  const pg = new PgClient({ connectionString: testDatabaseUrl() });
  await pg.connect();
  try {
    return await fn(pg);
  } finally {
    await pg.end();
  }
}

/** A namespace of this test's own: the API processes sync schedules, which must not meet other tests'. */
async function createNamespace(): Promise<void> {
  await connection.workflowService.registerNamespace({
    namespace: NAMESPACE,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  await eventually(
    async () => {
      await ensureSearchAttributes(connection, NAMESPACE);
      // Visibility accepts a query on every incident attribute only once the frontend knows them all.
      await connection.workflowService.listWorkflowExecutions({
        namespace: NAMESPACE,
        pageSize: 1,
        query: ALL_SEARCH_ATTRIBUTES.map((k) => `${k.name} IS NULL`).join(' AND '),
      });
      return true;
    },
    60_000,
    `namespace ${NAMESPACE} with the incident search attributes`,
  );
}

/** The shipped config with a fast escalation ladder (Slack at once, SMS and PagerDuty 15 s later) and no checks. */
function writeConfigDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-multi-process-'));
  cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
  rmSync(join(dir, 'checks'), { recursive: true, force: true });
  writeFileSync(
    join(dir, 'escalation-policies.yaml'),
    `policies:
  default:
    levels:
      - { name: L1 Slack alert, delay: 0s, targets: [{ slack_channel: $incident }], channels: [slack] }
      - { name: L2 primary, delay: 15s, targets: [{ role: primary }], channels: [sms, pagerduty] }
`,
  );
  return dir;
}

function processEnv(): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    DATABASE_URL: schemaDatabaseUrl(),
    INCIDENTFLOW_CONFIG_DIR: configDir,
    INCIDENTFLOW_DATA_DIR: dataDir,
    INCIDENTFLOW_LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    AIRFLOW_BASE_URL: airflow.url,
    AIRFLOW_USERNAME: 'admin',
    AIRFLOW_PASSWORD: 'admin',
    AIRFLOW_API_VERSION: 'v1',
    PAGERDUTY_ROUTING_KEY: PD_ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pagerduty.eventsUrl,
    ...paging.workerEnv(),
  };
}

beforeAll(async () => {
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace: NAMESPACE });
  await createNamespace();
  await withPg((pg) => pg.query(`CREATE SCHEMA ${SCHEMA}`));

  paging = await startPagingDoubles();
  pagerduty = await startPagerDutyDouble();
  airflow = await startAirflowDouble({ versions: ['v1'] });
  for (const dag of DAGS) {
    airflow.addDag({ dagId: dag, tasks: ['extract', 'transform', 'load'] });
    airflow.addRun({
      dagId: dag,
      runId: RUN_ID,
      state: 'failed',
      taskStates: { extract: 'success', transform: 'failed', load: 'upstream_failed' },
    });
    // Scenario 1: the first retry hits the same transient error, the second one succeeds.
    airflow.scriptTask(dag, 'transform', { outcomes: ['failed', 'success'] });
  }
  configDir = writeConfigDir();
  dataDir = mkdtempSync(join(tmpdir(), 'incidentflow-multi-process-data-'));
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await paging?.close();
  await pagerduty?.close();
  await airflow?.close();
  await withPg((pg) => pg.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)).catch(() => undefined);
  await connection?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function start(
  role: 'api' | 'worker',
  extra: Record<string, string> = {},
): Promise<IncidentflowProcess> {
  const p = await startIncidentflow(role, { ...processEnv(), ...extra });
  processes.push(p);
  return p;
}

async function post(apiUrl: string, alerts: FakeAlert[]): Promise<{ status: number; incidentIds: string[] }> {
  const res = await fetch(`${apiUrl}/api/v1/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alertmanagerPayload(alerts)),
  });
  const body = (await res.json()) as { incidents?: Array<{ incidentId: string }> };
  return { status: res.status, incidentIds: (body.incidents ?? []).map((i) => i.incidentId) };
}

/** The worker process (of `workers`) that runs a started `airflowClearTask` of one of `incidentIds`. */
async function workerClearing(
  incidentIds: string[],
  workers: IncidentflowProcess[],
): Promise<{ worker: IncidentflowProcess; incidentId: string } | undefined> {
  for (const incidentId of incidentIds) {
    const { raw } = await client.workflow.getHandle(incidentId).describe();
    for (const a of raw.pendingActivities ?? []) {
      if (a.activityType?.name !== 'airflowClearTask' || a.state !== PENDING_ACTIVITY_STARTED) continue;
      const worker = workers.find((w) => a.lastWorkerIdentity === `${w.pid}@${hostname()}`);
      if (worker) return { worker, incidentId };
    }
  }
  return undefined;
}

/** The incidents not completed yet, with their status and what they wait on (for failure messages). */
async function stillOpen(incidentIds: string[]): Promise<unknown[]> {
  const open: unknown[] = [];
  for (const id of incidentIds) {
    const handle = client.workflow.getHandle(id);
    const { status, raw } = await handle.describe();
    if (status.name === 'COMPLETED') continue;
    const view = await handle.query(incidentQuery).catch(() => undefined);
    open.push({
      id,
      execution: status.name,
      incident: view?.status,
      pending: (raw.pendingActivities ?? []).map((a) => ({
        type: a.activityType?.name,
        attempt: a.attempt,
        worker: a.lastWorkerIdentity,
        failure: a.lastFailure?.message,
      })),
      timeline: view?.timeline.slice(-3).map((e) => e.text),
      stack: await handle.query<string>('__stack_trace').catch((err: Error) => err.message),
      lastEvents: (await handle.fetchHistory()).events
        ?.slice(-6)
        .map((e) => `${String(e.eventType)}${e.workflowTaskFailedEventAttributes?.failure?.message ?? ''}`),
    });
  }
  return open;
}

/** Real (not dry-run) clears of a DAG's task instances that the Airflow double answered with 200. */
function clearsOf(dag: string): number {
  return airflow
    .requestsTo('POST', `/dags/${dag}/clearTaskInstances`)
    .filter((r) => r.status === 200 && (r.body as { dry_run?: boolean }).dry_run === false).length;
}

describe('two API and two worker processes on one Temporal server and one PostgreSQL store', () => {
  it('opens one incident per dedup key and does every side effect once, despite a worker killed mid-clear', async () => {
    const workers = await Promise.all([start('worker'), start('worker')]);
    const [portA, portB] = [await freePort(), await freePort()];
    await Promise.all([start('api', { PORT: String(portA) }), start('api', { PORT: String(portB) })]);
    const apiUrls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];

    // Every DAG's alerts: the whole group to both APIs, and each alert alone to alternating APIs, all at once.
    const deliveries = DAGS.flatMap((dag) => {
      const alerts = alertsOf(dag);
      return [
        { dag, url: apiUrls[0]!, alerts },
        { dag, url: apiUrls[1]!, alerts },
        ...alerts.map((a, i) => ({ dag, url: apiUrls[i % 2]!, alerts: [a] })),
      ];
    });
    const answers = await Promise.all(deliveries.map((d) => post(d.url, d.alerts)));
    const incidentOf = new Map<string, string>();
    answers.forEach((answer, i) => {
      const { dag } = deliveries[i]!;
      expect({ dag, status: answer.status }).toEqual({ dag, status: 202 });
      expect(answer.incidentIds).toHaveLength(1);
      expect(answer.incidentIds[0]).toBe(incidentOf.get(dag) ?? answer.incidentIds[0]);
      incidentOf.set(dag, answer.incidentIds[0]!);
    });
    const incidentIds = DAGS.map((dag) => incidentOf.get(dag)!);
    expect(new Set(incidentIds).size).toBe(DAGS.length);

    // Kill the worker that is clearing a task in Airflow right now (the clear went out; the wait is on).
    const victim = await eventually(
      async () => {
        const found = await workerClearing(incidentIds, workers);
        const dag = found && DAGS[incidentIds.indexOf(found.incidentId)]!;
        return found && clearsOf(dag!) >= 1 ? found : undefined;
      },
      240_000,
      'a worker running an Airflow clear',
    );
    await victim.worker.kill();
    const survivor = workers.find((w) => w !== victim.worker)!;

    const views = await eventually(
      async () => {
        const all = await Promise.all(
          incidentIds.map((id) => client.workflow.getHandle(id).query(incidentQuery)),
        );
        const done = all.every(
          (v) =>
            v.runbook?.status === 'succeeded' &&
            v.escalation?.pages.some((p) => p.level === 2 && p.channel === 'sms' && p.status === 'sent'),
        );
        return done ? all : undefined;
      },
      600_000,
      'every runbook to succeed and every L2 page to go out',
    );
    expect(survivor.child.exitCode).toBeNull();

    // Exactly one incident workflow per dedup key: one run per id, no other incident in the namespace.
    const executions: Array<{ workflowId: string; runId: string }> = [];
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'incidentWorkflow'` })) {
      executions.push({ workflowId: wf.workflowId, runId: wf.runId });
    }
    expect(executions.map((e) => e.workflowId).sort()).toEqual([...incidentIds].sort());
    expect(views.map((v) => v.dedupKey)).toEqual(DAGS.map((dag) => `failure_rate/${dag}`));

    // Both APIs list the same incidents.
    for (const url of apiUrls) {
      const res = await fetch(`${url}/api/v1/incidents?status=all`);
      expect(res.status).toBe(200);
      const { incidents } = (await res.json()) as { incidents: IncidentSummary[] };
      expect(incidents.map((i) => i.incidentId).sort()).toEqual([...incidentIds].sort());
    }

    // Every alert accounted for, once, in its own incident.
    views.forEach((v, i) => {
      const dag = DAGS[i]!;
      expect(v.alerts.map((a) => a.fingerprint).sort()).toEqual(
        Array.from({ length: ALERTS_PER_DAG }, (_, n) => fingerprint(dag, n)).sort(),
      );
      expect(v.alerts.every((a) => a.labels.dag_id === dag && a.status === 'firing')).toBe(true);
    });

    // The store (written by both workers) holds one record per incident.
    const rows = await withPg(async (pg) => {
      const result = await pg.query<{ workflow_id: string }>(`SELECT workflow_id FROM ${SCHEMA}.incidents`);
      return result.rows.map((r) => r.workflow_id).sort();
    });
    expect(rows).toEqual([...incidentIds].sort());

    // Side effects at the doubles, exactly once each.
    const channel = paging.slack.channelId('#data-incidents');
    for (const [i, dag] of DAGS.entries()) {
      const incidentId = incidentIds[i]!;
      // Scenario 1: two clears (the first retry fails again), two executions of the task.
      expect({ dag, clears: clearsOf(dag), executions: airflow.executions(dag, 'transform') }).toEqual({
        dag,
        clears: 2,
        executions: 2,
      });
      const messages = paging.slack.messages(channel);
      const roots = messages.filter(
        (m) => m.threadTs === undefined && JSON.stringify(m.blocks ?? []).includes(incidentId),
      );
      expect({ dag, roots: roots.length }).toEqual({ dag, roots: 1 });
      const l1 = paging.slack
        .callsTo('chat.postMessage')
        .filter((c) => String(c.body.text).includes(dag) && String(c.body.text).includes('L1'));
      expect({ dag, l1Pages: l1.length }).toEqual({ dag, l1Pages: 1 });
      // The notify step's own post (the thread's timeline digest quotes it too, behind a time stamp).
      const recovered = messages.filter((m) => m.text === `Task recovered after retry: transform in ${dag}`);
      expect({ dag, recovered: recovered.length }).toEqual({ dag, recovered: 1 });
      const sms = paging.twilio.messages.filter((m) => m.body?.includes(dag));
      expect({ dag, sms: sms.length }).toEqual({ dag, sms: 1 });
      expect({ dag, pagerDutyTriggers: pagerduty.alert(incidentId)?.triggers }).toEqual({
        dag,
        pagerDutyTriggers: 1,
      });
    }

    for (const id of incidentIds) await client.workflow.getHandle(id).signal(resolveSignal, { user: 'test' });
    await eventually(
      async () => ((await stillOpen(incidentIds)).length === 0 ? true : undefined),
      180_000,
      'every incident to close',
    ).catch(async (err: Error) => {
      const logs = processes.map((p) => `--- ${p.role} ${p.pid} ---\n${p.output().slice(-3000)}`);
      throw new Error(
        `${err.message}: ${JSON.stringify(await stillOpen(incidentIds), null, 1)}\n${logs.join('\n')}`,
      );
    });
    // The processes left shut down cleanly on SIGTERM.
    for (const p of processes.filter((p) => p !== victim.worker)) expect(await p.stop()).toBe(0);
  });
});

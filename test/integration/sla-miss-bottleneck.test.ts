/**
 * SLA miss (DESIGN §4): the incident finds the slowest task of the late run against its P95 over recent
 * successful runs (Airflow double), leads the diagnosis with it, and the sla_miss runbook announces it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentQuery, resolveSignal } from '../../src/workflows/definitions';
import { startAirflowDouble, type AirflowDouble } from '../doubles/airflow-double';
import { openIncident } from '../helpers/incident';
import { openTestStore, type TestStore } from '../helpers/store';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const address = process.env.TEMPORAL_TEST_ADDRESS!;
const MIN = 60;
let env: TestWorkflowEnvironment;
let airflow: AirflowDouble;
let store: TestStore;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('sla');

beforeAll(async () => {
  env = await devServerEnv();
  airflow = await startAirflowDouble();
  airflow.addDag({ dagId: 'customer_etl', tasks: ['extract', 'transform', 'load'] });
  // The seed's L3 numbers: extract ~15m, transform ~45m (P95 60m), load ~8m.
  const history = [
    [14, 40, 7],
    [15, 44, 8],
    [15, 45, 8],
    [16, 46, 9],
    [22, 60, 10],
  ];
  history.forEach(([extract, transform, load], i) =>
    airflow.addRun({
      dagId: 'customer_etl',
      runId: `scheduled__2026-11-1${i}T09:00:00+00:00`,
      state: 'success',
      durations: { extract: extract! * MIN, transform: transform! * MIN, load: load! * MIN },
    }),
  );
  airflow.addRun({
    dagId: 'customer_etl',
    runId: 'scheduled__2026-11-25T09:00:00+00:00',
    state: 'running',
    taskStates: { extract: 'success', transform: 'running', load: null },
    durations: { extract: 16 * MIN, transform: 83 * MIN },
  });
  store = await openTestStore('postgres');
  await store.store.migrate();
  worker = await startTestWorker(env, {
    taskQueue,
    store: store.store,
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
  await store?.cleanup();
  await env?.teardown();
});

describe('SLA miss', () => {
  it('names the bottleneck task against its P95 in the diagnosis and the runbook announcement', async () => {
    const { incidentId } = await openIncident({
      address,
      taskQueue,
      labels: {
        alertname: 'AirflowSlaMiss',
        dag_id: 'customer_etl',
        run_id: 'scheduled__2026-11-25T09:00:00+00:00',
      },
      annotations: { summary: 'customer_etl missed its 2h SLA' },
      settings: { features: { slack: false, store: true, pagerduty: false, alertmanager: false } },
    });
    const handle = env.client.workflow.getHandle(incidentId);
    const v = await eventually(async () => {
      const view = await handle.query(incidentQuery);
      return view.pendingApprovals.length > 0 ? view : undefined;
    }, 30_000);
    expect(v).toMatchObject({ incidentType: 'sla_miss', severity: 'P1' });
    expect(v.diagnosis[0]).toMatchObject({ cause: 'slow_task', suggestedRunbook: 'sla_miss' });
    // The running task's duration is measured against the clock when the diagnosis runs: 83 minutes when
    // the run was added, plus however long a loaded machine took to get there.
    const bottleneck = /^transform ran (\d+)m, (\d+)% over its P95 of 60m \(mean 47m over 5 runs\)/;
    const evidence = v.diagnosis[0]!.evidence[0]!;
    const [, ran, over] = bottleneck.exec(evidence) ?? [];
    expect(Number(ran)).toBeGreaterThanOrEqual(83);
    expect(Number(ran)).toBeLessThanOrEqual(85);
    expect(Number(over)).toBeGreaterThanOrEqual(38);
    expect(Number(over)).toBeLessThanOrEqual(42);
    expect(evidence).toMatch(/ in run scheduled__2026-11-25T09:00:00\+00:00$/);
    const finding = evidence.replace(/ in run \S+$/, '');
    expect(v.runbook).toMatchObject({ runbook: 'sla_miss' });
    expect(v.timeline.map((e) => e.text)).toContain(
      `SLA missed for DAG customer_etl; on-call is paged. Bottleneck: ${finding}.`,
    );
    expect(v.pendingApprovals[0]!.stepId).toBe('approve_scale_up');
    // New runs take the patched path: the store's incident number is in the memo for the Web UI.
    expect(v.number).toMatch(/^INC-\d{8}-\d{3}$/);
    const { memo } = await handle.describe();
    expect(memo).toMatchObject({ incidentNumber: v.number });
    await handle.signal(resolveSignal, { user: 'test' });
  });
});

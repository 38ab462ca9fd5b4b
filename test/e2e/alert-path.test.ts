/**
 * The whole detection path with real parts: a statsd_exporter stand-in serving Airflow-shaped metrics →
 * the real Prometheus 2.42 evaluating the SHIPPED failure-rate rule (only `for` shortened) → the real
 * Alertmanager 0.25 with the SHIPPED routing (timings shortened, webhook pointed at the test API) →
 * incidentflow's API → an incident workflow on a real Temporal dev server → resolved when the rate recovers.
 * The same Prometheus then answers every PromQL query of the shipped Grafana dashboards.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse, stringify } from 'yaml';
import { incidentQuery } from '../../src/workflows/definitions';
import {
  IncidentKey,
  IncidentServiceKey,
  IncidentSeverityKey,
  IncidentStatusKey,
} from '../../src/workflows/search-attributes';
import {
  type Labels,
  startStatsdExporterDouble,
  type StatsdExporterDouble,
} from '../doubles/statsd-exporter-double';
import { buildTestApp } from '../helpers/app';
import {
  type AlertRule,
  DEPLOY_DIR,
  dashboardQueries,
  dashboards,
  isAlertRule,
  loadRuleGroups,
  type RuleGroup,
  substituteGrafanaVariables,
} from '../helpers/deploy-files';
import { type ManagedServer, startAlertmanager, startPrometheus } from '../helpers/prometheus-stack';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const TOKEN = 'e2e-ingest-token';
/** The DAG whose failure rate spikes; unique so a reused Temporal server never holds its incident. */
const FAILING_DAG = `orders_etl_${randomUUID().slice(0, 8)}`;
/** The DAG the dashboards are queried for (it has a budget in the shipped rules). */
const DASHBOARD_DAG = 'customer_etl';
const RULE = 'AirflowTaskFailureRateHigh';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
let apiUrl: string;
let exporter: StatsdExporterDouble;
let ticker: NodeJS.Timeout | undefined;
let alertmanager: ManagedServer | undefined;
let prometheus: ManagedServer | undefined;
let dir: string;
const taskQueue = uniqueTaskQueue('e2e');

/** Runs `fn`; on failure appends the Prometheus and Alertmanager logs to the error. */
async function withLogs<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const tail = (s: string | undefined): string => (s ?? '(not started)').slice(-6_000);
    const error = err instanceof Error ? err : new Error(String(err));
    error.message +=
      `\n--- prometheus log ---\n${tail(prometheus?.logs())}` +
      `\n--- alertmanager log ---\n${tail(alertmanager?.logs())}`;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Airflow-shaped metrics, with the histogram buckets of the shipped statsd_exporter mapping.

const mapping = parse(readFileSync(join(DEPLOY_DIR, 'statsd/statsd-mapping.yml'), 'utf8')) as {
  defaults: { histogram_options: { buckets: number[] } };
  mappings: Array<{ name: string; histogram_options?: { buckets: number[] } }>;
};
function bucketsOf(name: string): number[] {
  const m = mapping.mappings.find((x) => x.name === name);
  if (!m) throw new Error(`statsd mapping has no ${name}`);
  return (m.histogram_options ?? mapping.defaults.histogram_options).buckets;
}
const RUN_BUCKETS = bucketsOf('airflow_dagrun_duration_seconds');
const DELAY_BUCKETS = bucketsOf('airflow_dagrun_schedule_delay_seconds');
const TASK_BUCKETS = bucketsOf('airflow_task_duration_seconds');
const QUEUED_BUCKETS = bucketsOf('airflow_task_queued_duration_seconds');

/** The seed's customer_etl: extract ~15 min, transform ~45 min (the bottleneck), load ~8 min. */
const TASKS: Array<[string, number]> = [
  ['extract', 900],
  ['transform', 2700],
  ['load', 480],
];

function finish(dag: string, task: string, state: string): Labels {
  return { dag_id: dag, task_id: task, state };
}

/** One round of a healthy DAG's activity: runs, tasks, a few failures (25 %), heartbeats. */
function airflowActivity(x: StatsdExporterDouble, tick: number): void {
  const dag = { dag_id: DASHBOARD_DAG };
  x.observe(
    'airflow_dagrun_duration_seconds',
    { ...dag, state: 'success' },
    RUN_BUCKETS,
    5_400 + (tick % 7) * 60,
  );
  if (tick % 4 === 0)
    x.observe('airflow_dagrun_duration_seconds', { ...dag, state: 'failed' }, RUN_BUCKETS, 600);
  x.observe('airflow_dagrun_schedule_delay_seconds', dag, DELAY_BUCKETS, 12);
  for (const [task, seconds] of TASKS) {
    x.observe(
      'airflow_task_duration_seconds',
      { ...dag, task_id: task },
      TASK_BUCKETS,
      seconds + (tick % 5) * 30,
    );
    x.observe('airflow_task_queued_duration_seconds', { ...dag, task_id: task }, QUEUED_BUCKETS, 3);
    x.add('airflow_ti_finish_total', finish(DASHBOARD_DAG, task, 'success'), 1);
  }
  x.add('airflow_ti_finish_total', finish(DASHBOARD_DAG, 'transform', 'failed'), 1);
  x.add('airflow_sla_missed_total', { dag_id: DASHBOARD_DAG, task_id: 'load' }, 1);
  x.add('airflow_operator_failures_total', { operator: 'PythonOperator' }, 1);
  x.add('airflow_scheduler_heartbeat_total', {}, 5);
  x.set('airflow_executor_running_tasks', {}, 4 + (tick % 3));
  x.set('airflow_executor_queued_tasks', {}, tick % 2);
  // Not exported by incidentflow's API yet (the lead adds them): served here so the dashboards have data.
  x.add(
    'incidentflow_incidents_opened_total',
    { incident_type: 'task_temporary_failure', severity: 'P2', service: DASHBOARD_DAG },
    1,
  );
}

function seedMetrics(x: StatsdExporterDouble): void {
  x.set('airflow_ti_finish_total', finish(FAILING_DAG, 'transform', 'failed'), 0);
  x.set('airflow_ti_finish_total', finish(FAILING_DAG, 'transform', 'success'), 0);
  // Not exported by incidentflow's API yet (the lead adds them): served here so the dashboards have data.
  x.set(
    'incidentflow_open_incidents',
    { severity: 'P2', incident_type: 'sla_miss', service: DASHBOARD_DAG },
    1,
  );
  airflowActivity(x, 0);
}

// ---------------------------------------------------------------------------------------------------------
// Configuration derived from the shipped files.

/** The shipped Airflow rules: every recording group as is, and only the failure-rate alert, `for: 2s`. */
function testRules(): { groups: RuleGroup[]; shipped: AlertRule } {
  const groups = loadRuleGroups(join(DEPLOY_DIR, 'prometheus/rules/airflow.rules.yml'));
  const shipped = groups
    .flatMap((g) => g.rules)
    .find((r): r is AlertRule => isAlertRule(r) && r.alert === RULE);
  if (!shipped) throw new Error(`${RULE} is not in airflow.rules.yml`);
  const recording = groups.filter((g) => g.rules.every((r) => !isAlertRule(r)));
  return { groups: [...recording, { name: 'e2e.alerts', rules: [{ ...shipped, for: '2s' }] }], shipped };
}

/** The shipped Alertmanager config with fast timings, the webhook at the test API and secrets in `dir`. */
function alertmanagerConfig(): string {
  const config = parse(readFileSync(join(DEPLOY_DIR, 'alertmanager/alertmanager.yml'), 'utf8')) as {
    route: Record<string, unknown> & { routes?: Array<Record<string, unknown>> };
    receivers: Array<{
      name: string;
      webhook_configs?: Array<{ url: string; http_config: { authorization: { credentials_file: string } } }>;
      slack_configs?: Array<{ api_url_file: string }>;
    }>;
  };
  const tokenFile = join(dir, 'incidentflow-ingest-token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const slackUrlFile = join(dir, 'slack-webhook-url');
  writeFileSync(slackUrlFile, 'http://127.0.0.1:9/unused\n');
  const fast = { group_wait: '1s', group_interval: '2s', repeat_interval: '1h' };
  Object.assign(config.route, fast);
  for (const route of config.route.routes ?? []) Object.assign(route, fast);
  for (const receiver of config.receivers) {
    for (const hook of receiver.webhook_configs ?? []) {
      hook.url = `${apiUrl}${new URL(hook.url).pathname}`;
      hook.http_config.authorization.credentials_file = tokenFile;
    }
    for (const slack of receiver.slack_configs ?? []) slack.api_url_file = slackUrlFile;
  }
  return stringify(config);
}

function prometheusConfig(alertmanagerAddress: string): string {
  const api = new URL(apiUrl);
  return stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ['rules.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanagerAddress] }] }] },
    // Job names as in deploy/prometheus/prometheus.yml (the worker's SDK metrics are not part of this test).
    scrape_configs: [
      { job_name: 'statsd-exporter', static_configs: [{ targets: [exporter.target] }] },
      { job_name: 'incidentflow-api', static_configs: [{ targets: [api.host] }] },
      { job_name: 'alertmanager', static_configs: [{ targets: [alertmanagerAddress] }] },
    ],
  });
}

// ---------------------------------------------------------------------------------------------------------

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

  exporter = await startStatsdExporterDouble();
  seedMetrics(exporter);
  let tick = 0;
  ticker = setInterval(() => airflowActivity(exporter, ++tick), 500);

  dir = mkdtempSync(join(tmpdir(), 'incidentflow-e2e-'));
  writeFileSync(join(dir, 'rules.yml'), stringify({ groups: testRules().groups }));
  await withLogs(async () => {
    alertmanager = await startAlertmanager(dir, alertmanagerConfig());
    prometheus = await startPrometheus(dir, prometheusConfig(alertmanager.address));
  });
});

afterAll(async () => {
  if (ticker) clearInterval(ticker);
  await prometheus?.stop();
  await alertmanager?.stop();
  await exporter?.close();
  await testApp?.close();
  await worker?.stop();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface PromResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: Array<{ metric: Labels; value: [number, string] }> | [number, string] };
}

async function query(expr: string): Promise<PromResponse> {
  const res = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResponse;
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_resolve, reject) =>
    setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref(),
  );
}

describe('alert path: Airflow metrics → Prometheus → Alertmanager → incidentflow → Temporal', () => {
  it('uses the shipped failure-rate expression unchanged', () => {
    const { groups, shipped } = testRules();
    const tested = groups.flatMap((g) => g.rules).find((r): r is AlertRule => isAlertRule(r))!;
    expect(tested.expr).toBe(shipped.expr);
    expect(tested.labels).toEqual(shipped.labels);
    expect(shipped.for).toBe('5m');
  });

  it('opens one incident when the failure rate spikes and resolves it when the rate recovers', async () => {
    await withLogs(async () => {
      await eventually(
        () => Promise.resolve(exporter.scrapes() >= 2 ? true : undefined),
        15_000,
        'two scrapes',
      );
      // 10 of 12 task instances failed: 83 % > 50 %, and 12 finished ≥ the volume floor of 5.
      exporter.set('airflow_ti_finish_total', finish(FAILING_DAG, 'transform', 'failed'), 10);
      exporter.set('airflow_ti_finish_total', finish(FAILING_DAG, 'transform', 'success'), 2);

      const id = `incident:${FAILING_DAG}:failure_rate/${FAILING_DAG}`;
      const handle = env.client.workflow.getHandle(id);
      const view = await eventually(() => handle.query(incidentQuery), 30_000, `incident ${id}`);
      expect(view).toMatchObject({
        incidentType: 'task_temporary_failure',
        severity: 'P2',
        service: FAILING_DAG,
        dedupKey: `failure_rate/${FAILING_DAG}`,
        status: 'triggered',
        routing: { rule: 'airflow-failure-rate-spike', runbook: 'task_temporary_failure' },
      });
      expect(view.alerts).toHaveLength(1);
      expect(view.alerts[0]).toMatchObject({
        name: RULE,
        source: 'alertmanager',
        status: 'firing',
        labels: {
          alertname: RULE,
          dag_id: FAILING_DAG,
          severity: 'P2',
          incident_type: 'task_temporary_failure',
          service: FAILING_DAG,
          dedup_key: `failure_rate/${FAILING_DAG}`,
          runbook: 'task_temporary_failure',
        },
      });
      expect(view.alerts[0]!.summary).toContain(`DAG ${FAILING_DAG}: 83.33% of finished tasks failed`);
      const attributes = (await handle.describe()).typedSearchAttributes;
      expect([
        attributes.get(IncidentKey),
        attributes.get(IncidentSeverityKey),
        attributes.get(IncidentServiceKey),
        attributes.get(IncidentStatusKey),
      ]).toEqual([`failure_rate/${FAILING_DAG}`, 'P2', FAILING_DAG, 'triggered']);
      const { count } = await env.client.workflow.count(`TaskQueue = '${taskQueue}'`);
      expect(count).toBe(1);

      // The DAG recovers: successes dominate the 5-minute window again.
      exporter.set('airflow_ti_finish_total', finish(FAILING_DAG, 'transform', 'success'), 1_000);
      const outcome = await Promise.race([handle.result(), timeout(30_000, 'the incident to resolve')]);
      expect(outcome).toMatchObject({ incidentId: id, status: 'resolved', resolution: 'auto' });
      const final = await handle.query(incidentQuery);
      expect(final.alerts.map((a) => [a.name, a.status])).toEqual([[RULE, 'resolved']]);

      // Alertmanager authenticated with the token file: both notifications were accepted.
      const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
      const accepted =
        /incidentflow_alerts_received_total\{source="alertmanager",outcome="accepted"\} (\d+)/.exec(metrics);
      expect(Number(accepted?.[1])).toBeGreaterThanOrEqual(2);
    });
  });
});

describe('every Grafana dashboard query runs on the live Prometheus and returns data', () => {
  const variables: Record<string, string> = { dag_id: DASHBOARD_DAG };
  for (const { dashboard } of dashboards()) {
    for (const v of dashboard.templating.list) {
      const current = v.current?.value;
      if (v.name !== 'dag_id' && typeof current === 'string') variables[v.name] = current;
    }
  }

  beforeAll(async () => {
    // Recording rules have run and the API has been scraped at least twice.
    await withLogs(() =>
      eventually(
        async () => {
          const records = await query(
            `dag_id:airflow_dagrun_duration_seconds:mean1h{dag_id="${DASHBOARD_DAG}"}`,
          );
          const api = await query('count_over_time(up{job="incidentflow-api"}[1m]) >= 3');
          return (records.data.result as unknown[]).length > 0 && (api.data.result as unknown[]).length > 0
            ? true
            : undefined;
        },
        30_000,
        'recording rules and scrapes',
      ),
    );
  });

  it.each(dashboardQueries().map((q) => [q.dashboard, q.panel, q.refId, q.expr]))(
    '%s / %s / %s',
    async (_dashboard, _panel, _ref, expr) => {
      await withLogs(async () => {
        const promql = substituteGrafanaVariables(expr, variables);
        const response = await query(promql);
        expect({ promql, status: response.status, error: response.error }).toEqual({
          promql,
          status: 'success',
          error: undefined,
        });
        expect(response.data.resultType).toBe('vector');
        const values = (response.data.result as Array<{ value: [number, string] }>).map((s) => s.value[1]);
        expect({ promql, values }).toEqual({ promql, values: expect.arrayContaining([expect.any(String)]) });
        expect(values.some((v) => v !== 'NaN')).toBe(true);
      });
    },
  );

  it.each(
    dashboards().flatMap(({ dashboard }) =>
      dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => [dashboard.uid, v.name, v.definition]),
    ),
  )('%s variable %s (%s) lists the DAG', async (_uid, _name, definition) => {
    const [, metric, label] = /^label_values\((\w+),\s*(\w+)\)$/.exec(definition ?? '') ?? [];
    expect([metric, label]).toEqual([expect.any(String), expect.any(String)]);
    const res = await fetch(
      `${prometheus!.url}/api/v1/label/${label}/values?match[]=${encodeURIComponent(metric!)}`,
    );
    const body = (await res.json()) as { status: string; data: string[] };
    expect(body.status).toBe('success');
    expect(body.data).toContain(DASHBOARD_DAG);
  });
});

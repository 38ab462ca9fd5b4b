/**
 * Seed scenario 2: deployment v2.3.1 at 09:15, task failure rate 2 % → 78 % at 09:17. Diagnosis finds the
 * deployment, the rollback runbook asks the on-call engineer or team lead, an approval from someone else is
 * refused and recorded, the on-call engineer approves, `kubectl rollout undo` runs exactly once (real
 * kubectl against the Kubernetes API double), the failure-rate check holds for 10 minutes on a real
 * Prometheus, and the incident resolves and closes with its postmortem. Real PostgreSQL store.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { alertsFromWebhook } from '../../src/domain/alertmanager';
import type { IncidentView } from '../../src/domain/incident-view';
import { resolveRole } from '../../src/domain/oncall';
import { createIncidentStarter, defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { createTemporalClient } from '../../src/temporal/client';
import { approveSignal, incidentQuery } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { startKubeApiServerDouble, type KubeApiServerDouble } from '../doubles/kube-apiserver-double';
import { alertmanagerPayload } from '../helpers/alerts';
import { shippedConfig } from '../helpers/app';
import { startPrometheus, type PrometheusProcess } from '../helpers/prometheus-process';
import { openTestStore, type TestStore } from '../helpers/store';
import { eventually, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { skippingClock } from '../helpers/skipping-clock';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

const MIN = 60_000;

let env: TestWorkflowEnvironment;
let store: TestStore;
let kube: KubeApiServerDouble;
let exporter: Server;
let prometheus: PrometheusProcess;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('s2');

/** Airflow task counters after the rollback: no failures, steady successes. */
let successes = 1000;
function metrics(): string {
  successes += 5;
  return [
    '# TYPE airflow_ti_failures counter',
    'airflow_ti_failures 78',
    '# TYPE airflow_ti_successes counter',
    `airflow_ti_successes ${successes}`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  store = await openTestStore('postgres');
  await store.store.migrate();
  kube = await startKubeApiServerDouble();
  kube.seedDeployment({
    namespace: 'data-platform',
    name: 'airflow-workers',
    revisions: [
      { image: 'registry.local/airflow-workers:v2.2.9', changeCause: 'deploy v2.2.9' },
      { image: 'registry.local/airflow-workers:v2.3.0', changeCause: 'deploy v2.3.0' },
      { image: 'registry.local/airflow-workers:v2.3.1', changeCause: 'deploy v2.3.1' },
    ],
  });
  exporter = createServer((_req, res) => res.end(metrics()));
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const port = (exporter.address() as { port: number }).port;
  prometheus = await startPrometheus([`127.0.0.1:${port}`]);
  const kubeconfig = kube.writeKubeconfig(mkdtempSync(join(tmpdir(), 'incidentflow-kube-')));
  worker = await startTestWorker(env, {
    taskQueue,
    store: store.store,
    clock: await skippingClock(env),
    env: { KUBECONFIG: kubeconfig, PROMETHEUS_URL: prometheus.url },
  });
});

afterAll(async () => {
  await worker?.stop();
  await prometheus?.close();
  if (exporter) await new Promise((r) => exporter.close(r));
  await kube?.close();
  await store?.cleanup();
  await env?.teardown();
});

describe('seed scenario 2: rollback of a bad deployment', () => {
  it('diagnoses the deployment, gates the rollback on the on-call engineer, undoes once and resolves', async () => {
    const openedAt = Date.now();
    // Deployment marker v2.3.1 two minutes before the spike (POST /api/v1/events/deployments).
    await store.store.recordDeployment({
      service: 'customer_etl',
      version: 'v2.3.1',
      at: new Date(openedAt - 2 * MIN).toISOString(),
      description: 'connection pool config: max_connections 50 → 100',
    });

    const temporal = createTemporalClient(env.address, 'default');
    const starter = createIncidentStarter({
      temporal,
      taskQueue,
      config: () => shippedConfig,
      settings: defaultIncidentSettings({
        autoResolveGraceMs: 60_000,
        features: { slack: false, store: true, pagerduty: false, alertmanager: false },
      }),
    });
    const firing = alertmanagerPayload(
      [
        {
          fingerprint: 'a1b2c3d4e5f60002',
          startsAt: new Date(openedAt).toISOString(),
          labels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: 'customer_etl', severity: 'P2' },
          annotations: { summary: 'airflow_task_fail_rate > 50% for 5m (78%)' },
        },
      ],
      { groupKey: '{}:{alertname="AirflowTaskFailureRateHigh", dag_id="customer_etl"}' },
    );
    const { incidents } = await starter.ingest(alertsFromWebhook(firing));
    const id = incidents[0]!.incidentId;
    const handle = env.client.workflow.getHandle(id);
    const view = (): Promise<IncidentView> => handle.query(incidentQuery);

    // Diagnosis ranks the deployment regression first with the deployment as evidence, and the rollback
    // runbook (gated by an approval) starts from it.
    const awaiting = await eventually(async () => {
      const v = await view();
      return v.pendingApprovals.length > 0 ? v : undefined;
    }, 30_000);
    expect(awaiting.number).toMatch(/^INC-\d{8}-\d{3}$/);
    expect(awaiting.diagnosis[0]).toMatchObject({
      cause: 'deployment_regression',
      suggestedRunbook: 'dag_deployment_regression',
    });
    expect(awaiting.diagnosis[0]!.evidence.join(' ')).toContain('v2.3.1');
    expect(awaiting.runbook).toMatchObject({ runbook: 'dag_deployment_regression', startedBy: 'diagnosis' });
    expect(awaiting.status).toBe('awaiting_approval');
    const approval = awaiting.pendingApprovals[0]!;
    const at = Date.parse(approval.requestedAt);
    const primary = resolveRole(shippedConfig.oncall, 'primary', at);
    const allowed = [...primary, ...resolveRole(shippedConfig.oncall, 'team_lead', at)];
    expect(approval.allowed.map((a) => a.personId).sort()).toEqual([...new Set(allowed)].sort());
    expect(kube.patchCount('airflow-workers', 'data-platform')).toBe(0);

    // Someone who is neither on call nor team lead: refused and recorded in history.
    const outsider = Object.keys(shippedConfig.oncall.people).find((p) => !allowed.includes(p))!;
    await handle.signal(approveSignal, {
      stepId: 'approve_rollback',
      decision: 'approve',
      user: outsider,
      via: 'test',
    });
    const refused = await eventually(async () => {
      const v = await view();
      return v.timeline.find((e) => e.kind === 'approval_refused') ? v : undefined;
    });
    expect(refused.pendingApprovals).toHaveLength(1);
    expect(refused.timeline.find((e) => e.kind === 'approval_refused')!.text).toContain(
      'is not an allowed approver',
    );
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'approve',
    );
    expect(signals).toHaveLength(1);

    // The on-call engineer approves (by Slack user id, as a button click would).
    const engineer = shippedConfig.oncall.people[primary[0]!]!;
    await handle.signal(approveSignal, {
      stepId: 'approve_rollback',
      decision: 'approve',
      user: engineer.slack_user_id!,
      via: 'slack',
    });

    // The failure rate recovers after the rollback and Alertmanager reports the alert resolved. The incident
    // cannot resolve while the runbook still runs: it waits for the 10-minute check, then the grace period.
    const resolved = alertmanagerPayload(
      [
        {
          fingerprint: 'a1b2c3d4e5f60002',
          status: 'resolved',
          startsAt: new Date(openedAt).toISOString(),
          labels: firing.alerts[0]!.labels,
        },
      ],
      { groupKey: firing.groupKey },
    );
    await starter.ingest(alertsFromWebhook(resolved));
    await temporal.close();
    // Awaiting the result lets the time-skipping server skip ahead; no queries meanwhile (they hold time).
    const outcome = await handle.result();
    const closed = await view();
    expect(kube.patchCount('airflow-workers', 'data-platform')).toBe(1);
    expect(kube.history('data-platform', 'airflow-workers').at(-1)!.image).toBe(
      'registry.local/airflow-workers:v2.3.0',
    );
    const rollback = closed.runbook!.steps.rollback!;
    expect(rollback).toMatchObject({ status: 'succeeded', actor: `approved by ${engineer.name}` });
    const check = closed.runbook!.steps.verify_failure_rate!;
    expect(check.status).toBe('succeeded');
    // The check held for its full 10 minutes before the runbook succeeded and the incident resolved.
    expect(Date.parse(check.finishedAt!) - Date.parse(check.startedAt!)).toBeGreaterThanOrEqual(10 * MIN);
    expect(closed.runbook!.status).toBe('succeeded');
    expect(Date.parse(closed.resolvedAt!)).toBeGreaterThan(Date.parse(check.finishedAt!));
    expect(outcome).toMatchObject({ status: 'closed', resolution: 'auto' });
    const stored = await store.store.getIncident(id);
    expect(stored).toMatchObject({
      status: 'closed',
      outcome: 'resolved_by_runbook',
      runbook: 'dag_deployment_regression',
    });
    // The store holds the whole timeline, the postmortem entry written after the first copy included.
    const events = await store.store.getIncidentEvents(stored!.incidentKey);
    expect(events.map((e) => [e.seq, e.kind, e.text])).toEqual(
      closed.timeline.map((e) => [e.seq, e.kind, e.text]),
    );
    expect(events.at(-1)?.kind).toBe('postmortem');
    const postmortem = await store.store.getPostmortem(id);
    expect(postmortem?.markdown).toContain('v2.3.1');
  });
});

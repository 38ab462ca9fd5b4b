/**
 * The five shipped runbooks as chaos scenarios: the alert labels that route to each, the double state it
 * needs, where each step can be killed, and which side effects a finished run must show exactly once.
 */
import type { KillOnActivity } from './kill-interceptor';
import type { ProxiedRequest } from './fault-proxy';
import type { CellDoubles } from './doubles';

export type DoubleName = 'slack' | 'airflow' | 'kube' | 'prometheus' | 'pagerduty' | 'twilio';

/** A request of one step the proxy can hold (kill "during") or answer late (kill "after"). */
export interface StepRequest {
  double: DoubleName;
  /** For the report: what the request is. */
  what: string;
  match: (req: ProxiedRequest) => boolean;
  /**
   * `start`: armed when the incident opens (the request is unique to the step); `step`: armed once the
   * runbook reaches the step (reads an earlier step makes too).
   */
  arm: 'start' | 'step';
}

export interface StepKill {
  step: string;
  /** The step's first activity (its side-effect activity where a read prepares it). */
  before: KillOnActivity;
  request: StepRequest;
}

export interface Scenario {
  runbook: string;
  /** Labels of the firing alert; `id` makes the incident, DAGs and pools unique to one cell. */
  labels(id: string): Record<string, string>;
  seed(doubles: CellDoubles, id: string): void;
  /** Started through the `runRunbook` signal (the runbook does not start by itself). */
  startBySignal: boolean;
  steps: StepKill[];
  /** The step during which the Temporal server is restarted. */
  restartAt: string;
  /** Problems with the runbook's own side effects after the run (empty: exactly once each). */
  verify(doubles: CellDoubles, id: string): string[];
}

/** The request body as text, form encoding undone (Slack and Twilio send form bodies). */
export function bodyText(req: ProxiedRequest): string {
  try {
    return decodeURIComponent(req.body.replace(/\+/g, ' '));
  } catch {
    return req.body;
  }
}

/**
 * Whether a Slack message is the post of a notify step containing `message`, not a thread update quoting
 * the timeline ("08:12:01 …" lines) or the postmortem ("## Incident Summary …").
 */
export function isNotifyPost(text: string, message: string): boolean {
  return text.includes(message) && !/^\d{2}:\d{2}:\d{2} /.test(text) && !text.startsWith('## ');
}

/** The `text` field of a Slack Web API request (form-encoded or JSON). */
function slackText(req: ProxiedRequest): string {
  if (req.body.trimStart().startsWith('{')) {
    const text = (JSON.parse(req.body) as { text?: unknown }).text;
    return typeof text === 'string' ? text : '';
  }
  return new URLSearchParams(req.body).get('text') ?? '';
}

const slackPost = (what: string, text: string): StepRequest => ({
  double: 'slack',
  what,
  arm: 'start',
  match: (r) =>
    r.method === 'POST' && r.path.endsWith('/chat.postMessage') && isNotifyPost(slackText(r), text),
});

/** The ChatOps message edit that shows the approval buttons of a step. */
const approvalShown = (stepId: string): StepRequest => ({
  double: 'slack',
  what: `chat.update showing ${stepId}`,
  arm: 'start',
  match: (r) =>
    r.method === 'POST' &&
    r.path.endsWith('/chat.update') &&
    bodyText(r).includes('incident_approve') &&
    bodyText(r).includes(stepId),
});

const realClear = (dag: (r: ProxiedRequest) => boolean): StepRequest => ({
  double: 'airflow',
  what: 'POST clearTaskInstances (dry_run false)',
  arm: 'start',
  match: (r) =>
    r.method === 'POST' &&
    r.path.endsWith('/clearTaskInstances') &&
    dag(r) &&
    (JSON.parse(r.body || '{}') as { dry_run?: boolean }).dry_run === false,
});

const taskRead = (what: string): StepRequest => ({
  double: 'airflow',
  what,
  arm: 'step',
  match: (r) => r.method === 'GET' && /\/taskInstances\/transform$/.test(r.path),
});

/** Counts of what the doubles recorded, as problems when not as expected. */
function expectCount(problems: string[], what: string, actual: number, expected: number): void {
  if (actual !== expected) problems.push(`${what}: ${actual} (expected ${expected})`);
}

const failedRun = (id: string) => `scheduled__2026-12-01T00:00:00+00:00_${id}`;

function seedFailedTask(d: CellDoubles, dagId: string, runId: string): void {
  d.airflow.addDag({ dagId, tasks: ['extract', 'transform', 'load'] });
  d.airflow.addRun({
    dagId,
    runId,
    state: 'failed',
    taskStates: { extract: 'success', transform: 'failed', load: 'upstream_failed' },
  });
  d.airflow.scriptTask(dagId, 'transform', { outcomes: ['success'], queuedPolls: 0, runningPolls: 0 });
}

function clearCount(d: CellDoubles, dagId: string): number {
  return d.airflow
    .requestsTo('POST', `/dags/${dagId}/clearTaskInstances`)
    .filter((r) => (r.body as { dry_run?: boolean } | undefined)?.dry_run === false && r.status < 300).length;
}

function slackPosts(d: CellDoubles, text: string): number {
  return d.slack
    .callsTo('chat.postMessage')
    .filter(
      (c) =>
        c.status < 300 &&
        (c.response as { ok?: boolean } | undefined)?.ok === true &&
        typeof c.body.text === 'string' &&
        isNotifyPost(c.body.text, text),
    ).length;
}

function kubeWrites(d: CellDoubles, path: RegExp): number {
  return d.kube.requests.filter((r) => r.method !== 'GET' && path.test(r.path)).length;
}

const taskTemporaryFailure: Scenario = {
  runbook: 'task_temporary_failure',
  startBySignal: false,
  labels: (id) => ({
    alertname: 'AirflowTaskFailed',
    dag_id: `chaos_etl_${id}`,
    task_id: 'transform',
    run_id: failedRun(id),
  }),
  seed: (d, id) => seedFailedTask(d, `chaos_etl_${id}`, failedRun(id)),
  restartAt: 'retry_task',
  steps: [
    {
      step: 'retry_task',
      before: { type: 'airflowClearTask' },
      request: realClear(() => true),
    },
    {
      step: 'verify_task',
      before: { type: 'airflowAwaitState' },
      request: taskRead('GET taskInstances/transform'),
    },
    {
      step: 'tell_slack',
      before: { type: 'notifySlack', argIncludes: 'Task recovered after retry' },
      request: slackPost('chat.postMessage "Task recovered"', 'Task recovered after retry'),
    },
  ],
  verify: (d, id) => {
    const problems: string[] = [];
    expectCount(problems, 'Airflow clears', clearCount(d, `chaos_etl_${id}`), 1);
    expectCount(problems, 'Slack "Task recovered" posts', slackPosts(d, 'Task recovered after retry'), 1);
    return problems;
  },
};

const connectionPoolExhaustion: Scenario = {
  runbook: 'connection_pool_exhaustion',
  startBySignal: false,
  labels: (id) => ({
    alertname: 'AirflowTaskFailureRateHigh',
    incident_type: 'connection_pool_exhaustion',
    runbook: 'connection_pool_exhaustion',
    dag_id: `chaos_pool_etl_${id}`,
    task_id: 'transform',
    run_id: failedRun(id),
    pool: `chaos_pool_${id}`,
  }),
  seed: (d, id) => {
    seedFailedTask(d, `chaos_pool_etl_${id}`, failedRun(id));
    d.airflow.addPool({ name: `chaos_pool_${id}`, slots: 10 });
  },
  restartAt: 'retry_task',
  steps: [
    {
      step: 'raise_pool',
      before: { type: 'airflowSetPoolSlots' },
      request: {
        double: 'airflow',
        what: 'PATCH pools/<pool>',
        arm: 'start',
        match: (r) => r.method === 'PATCH' && r.path.includes('/pools/'),
      },
    },
    {
      step: 'retry_task',
      before: { type: 'airflowClearTask' },
      request: realClear(() => true),
    },
    {
      step: 'verify_task',
      before: { type: 'airflowAwaitState' },
      request: taskRead('GET taskInstances/transform'),
    },
    {
      step: 'tell_slack',
      before: { type: 'notifySlack', argIncludes: 'Raised pool' },
      request: slackPost('chat.postMessage "Raised pool"', 'Raised pool'),
    },
  ],
  verify: (d, id) => {
    const problems: string[] = [];
    const pool = `chaos_pool_${id}`;
    expectCount(problems, 'Airflow pool PATCHes', d.airflow.requestsTo('PATCH', `/pools/${pool}`).length, 1);
    expectCount(problems, 'Airflow pool slots', d.airflow.poolSlots(pool), 15);
    expectCount(problems, 'Airflow clears', clearCount(d, `chaos_pool_etl_${id}`), 1);
    expectCount(problems, 'Slack "Raised pool" posts', slackPosts(d, 'Raised pool'), 1);
    return problems;
  },
};

const DEPLOYMENT = /\/namespaces\/data-platform\/deployments\/airflow-workers$/;
const SCALE = /\/namespaces\/data-platform\/deployments\/airflow-workers\/scale$/;

const dagDeploymentRegression: Scenario = {
  runbook: 'dag_deployment_regression',
  startBySignal: true,
  labels: (id) => ({
    alertname: 'AirflowTaskFailureRateHigh',
    incident_type: 'dag_deployment_regression',
    runbook: 'dag_deployment_regression',
    dag_id: `chaos_deploy_etl_${id}`,
  }),
  seed: (d) => {
    d.kube.seedDeployment({
      namespace: 'data-platform',
      name: 'airflow-workers',
      revisions: [
        { image: 'registry.local/airflow-workers:v2.3.0', changeCause: 'deploy v2.3.0' },
        { image: 'registry.local/airflow-workers:v2.3.1', changeCause: 'deploy v2.3.1' },
      ],
    });
  },
  restartAt: 'approve_rollback',
  steps: [
    {
      step: 'approve_rollback',
      before: { type: 'resolveApprovers' },
      request: approvalShown('approve_rollback'),
    },
    {
      step: 'rollback',
      before: { type: 'kubePrepareRollback' },
      request: {
        double: 'kube',
        what: 'PATCH deployment (rollout undo)',
        arm: 'start',
        match: (r) => r.method === 'PATCH' && DEPLOYMENT.test(r.path.split('?')[0]!),
      },
    },
    {
      step: 'wait_for_rollout',
      before: { type: 'kubeRolloutStatus' },
      request: {
        double: 'kube',
        what: 'GET deployments?fieldSelector (rollout status)',
        arm: 'start',
        match: (r) => r.method === 'GET' && r.path.includes('fieldSelector=metadata.name'),
      },
    },
    {
      step: 'verify_failure_rate',
      before: { type: 'prometheusAwaitCheck' },
      request: {
        double: 'prometheus',
        what: 'PromQL query',
        arm: 'start',
        match: (r) => r.path.includes('/api/v1/query'),
      },
    },
    {
      step: 'tell_slack',
      before: { type: 'notifySlack', argIncludes: 'Rolled back deployment' },
      request: slackPost('chat.postMessage "Rolled back"', 'Rolled back deployment'),
    },
  ],
  verify: (d) => {
    const problems: string[] = [];
    expectCount(
      problems,
      'kubectl rollback PATCHes',
      d.kube.patchCount('airflow-workers', 'data-platform'),
      1,
    );
    const image = d.kube.history('data-platform', 'airflow-workers').at(-1)?.image;
    if (image !== 'registry.local/airflow-workers:v2.3.0')
      problems.push(`deployment runs ${image} (expected the previous revision v2.3.0)`);
    expectCount(problems, 'Slack "Rolled back" posts', slackPosts(d, 'Rolled back deployment'), 1);
    return problems;
  },
};

const slaMiss: Scenario = {
  runbook: 'sla_miss',
  startBySignal: false,
  labels: (id) => ({
    alertname: 'AirflowSlaMiss',
    dag_id: `chaos_sla_etl_${id}`,
  }),
  seed: (d, id) => {
    d.airflow.addDag({ dagId: `chaos_sla_etl_${id}`, tasks: ['extract', 'transform', 'load'] });
    d.airflow.addRun({
      dagId: `chaos_sla_etl_${id}`,
      runId: `scheduled__2026-12-01T09:00:00+00:00_${id}`,
      state: 'success',
      durations: { extract: 900, transform: 2700, load: 480 },
    });
    d.kube.seedDeployment({
      namespace: 'data-platform',
      name: 'airflow-workers',
      replicas: 3,
      revisions: [{ image: 'registry.local/airflow-workers:v2.3.1' }],
    });
  },
  restartAt: 'approve_scale_up',
  steps: [
    {
      step: 'announce_breach',
      before: { type: 'resolveApprovers', nth: 1 },
      request: slackPost('chat.postMessage "SLA missed"', 'SLA missed for DAG'),
    },
    {
      step: 'announce_scale_up',
      before: { type: 'notifySlack', argIncludes: 'Proposed: scale' },
      request: slackPost('chat.postMessage "Proposed: scale"', 'Proposed: scale'),
    },
    {
      step: 'approve_scale_up',
      before: { type: 'resolveApprovers', nth: 2 },
      request: approvalShown('approve_scale_up'),
    },
    {
      step: 'scale_workers',
      before: { type: 'kubeScale' },
      request: {
        double: 'kube',
        what: 'PATCH deployments/scale',
        arm: 'start',
        match: (r) => r.method !== 'GET' && SCALE.test(r.path.split('?')[0]!),
      },
    },
    {
      step: 'watch_dag_run',
      before: { type: 'airflowAwaitState' },
      request: {
        double: 'airflow',
        what: 'GET dagRuns',
        arm: 'step',
        match: (r) => r.method === 'GET' && r.path.includes('/dagRuns'),
      },
    },
    {
      step: 'tell_slack',
      before: { type: 'notifySlack', argIncludes: 'finished after the SLA miss' },
      request: slackPost('chat.postMessage "finished after the SLA miss"', 'finished after the SLA miss'),
    },
  ],
  verify: (d) => {
    const problems: string[] = [];
    expectCount(problems, 'kubectl scale writes', kubeWrites(d, SCALE), 1);
    const replicas = (d.kube.deployment('data-platform', 'airflow-workers')?.spec as { replicas?: number })
      ?.replicas;
    expectCount(problems, 'airflow-workers replicas', replicas ?? -1, 5);
    for (const text of ['SLA missed for DAG', 'Proposed: scale', 'finished after the SLA miss'])
      expectCount(problems, `Slack "${text}" posts`, slackPosts(d, text), 1);
    return problems;
  },
};

const dqConsumers = (id: string) => [`chaos_marts_${id}`, `chaos_features_${id}`];

const dataQualityViolation: Scenario = {
  runbook: 'data_quality_violation',
  startBySignal: false,
  labels: (id) => ({
    alertname: 'DataQualityCheckFailed',
    incident_type: 'data_quality_violation',
    check_set: `chaos_customers_${id}`,
    dag_id: `chaos_dq_etl_${id}`,
    dataset: `warehouse.customers_${id}`,
    check: 'row_count > 0',
  }),
  seed: (d, id) => {
    for (const dagId of [`chaos_dq_etl_${id}`, ...dqConsumers(id)])
      d.airflow.addDag({ dagId, tasks: ['extract', 'transform', 'load'] });
    d.airflow.addDataset({
      uri: `postgres://warehouse/public/customers_${id}`,
      producers: [{ dagId: `chaos_dq_etl_${id}`, taskId: 'load' }],
      consumers: dqConsumers(id),
    });
  },
  restartAt: 'approve_resume',
  steps: [
    {
      step: 'pause_downstream',
      before: { type: 'airflowSetPaused', argIncludes: '"paused":true' },
      request: {
        double: 'airflow',
        what: 'PATCH dags/<consumer> is_paused=true',
        arm: 'start',
        match: (r) => r.method === 'PATCH' && r.path.includes('/dags/') && r.body.includes('true'),
      },
    },
    {
      step: 'notify_owners',
      before: { type: 'notifySlack', argIncludes: 'Data quality check' },
      request: slackPost('chat.postMessage to the owners', 'Data quality check'),
    },
    {
      step: 'approve_resume',
      before: { type: 'resolveApprovers', nth: 1 },
      request: approvalShown('approve_resume'),
    },
    {
      step: 'unpause_downstream',
      before: { type: 'airflowSetPaused', argIncludes: '"paused":false' },
      request: {
        double: 'airflow',
        what: 'PATCH dags/<consumer> is_paused=false',
        arm: 'start',
        match: (r) => r.method === 'PATCH' && r.path.includes('/dags/') && r.body.includes('false'),
      },
    },
    {
      step: 'tell_slack',
      before: { type: 'notifySlack', argIncludes: 'resumed after' },
      request: slackPost('chat.postMessage "resumed"', 'resumed after'),
    },
  ],
  verify: (d, id) => {
    const problems: string[] = [];
    for (const dagId of dqConsumers(id)) {
      const patches = d.airflow.requestsTo('PATCH', `/dags/${dagId}`);
      const bodies = patches.map((p) => (p.body as { is_paused?: boolean } | undefined)?.is_paused);
      expectCount(problems, `pauses of ${dagId}`, bodies.filter((b) => b === true).length, 1);
      expectCount(problems, `unpauses of ${dagId}`, bodies.filter((b) => b === false).length, 1);
      if (d.airflow.isPaused(dagId)) problems.push(`${dagId} is still paused`);
    }
    expectCount(problems, 'Slack owner notifications', slackPosts(d, 'Data quality check'), 1);
    expectCount(problems, 'Slack "resumed" posts', slackPosts(d, 'resumed after'), 1);
    return problems;
  },
};

export const SCENARIOS: readonly Scenario[] = [
  taskTemporaryFailure,
  dagDeploymentRegression,
  slaMiss,
  dataQualityViolation,
  connectionPoolExhaustion,
];

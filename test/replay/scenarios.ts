import type { Client } from '@temporalio/client';
import type { RoutedAlert } from '../../src/domain/incident';
import { defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { snapshotPolicy } from '../../src/domain/escalation-policy';
import { shippedConfig } from '../helpers/app';
import type { SlackDouble } from '../doubles/slack-double';
import {
  acknowledgeSignal,
  incidentQuery,
  runRunbookSignal,
  alertSignal,
  approveSignal,
  escalateSignal,
  type IncidentInput,
  type IncidentSettings,
  resolveSignal,
} from '../../src/workflows/definitions';

/** What the recorder started for a scenario. */
export interface ScenarioContext {
  /** The Slack Web API double the activities post to (scenarios with `slack: true`). */
  slack?: SlackDouble;
}

/** A scripted incident whose history is recorded for replay tests (scripts/record-replay-histories.ts). */
export interface ReplayScenario {
  name: string;
  /** Record with the real activities (no integration configured: paging and actions fail as NotConfigured). */
  realActivities?: boolean;
  /** Record with Slack configured, against a Slack double (implies `realActivities`). */
  slack?: boolean;
  /** Drives the incident to completion; returns the workflow id and the run to record. */
  run(
    client: Client,
    taskQueue: string,
    context: ScenarioContext,
  ): Promise<{ workflowId: string; runId: string }>;
}

function input(id: string, settings: Partial<IncidentSettings> = {}): IncidentInput {
  return {
    incidentId: id,
    dedupKey: id,
    service: 'customer_etl',
    incidentType: 'task_temporary_failure',
    severity: 'P2',
    title: 'customer_etl: task failure rate > 50% for 5m',
    routing: {
      rule: 'airflow-failure-rate-spike',
      runbook: null,
      escalationPolicy: 'default',
      slackChannel: null,
    },
    settings: defaultIncidentSettings({ autoResolveGraceMs: 500, ...settings }),
  };
}

function alert(
  fp: string,
  status: 'firing' | 'resolved',
  startsAt = '2026-11-25T09:45:00.000Z',
): RoutedAlert {
  return {
    fingerprint: fp,
    status,
    source: 'alertmanager',
    name: 'AirflowTaskFailureRateHigh',
    labels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: 'customer_etl' },
    annotations: { summary: 'customer_etl: task failure rate > 50% for 5m' },
    startsAt,
    ...(status === 'resolved' ? { endsAt: '2026-11-25T09:47:00.000Z' } : {}),
    groupKey: 'g1',
    severity: 'P2',
  };
}

const at = '2026-11-25T09:45:01.000Z';

/** An incident input as the v2 ingress builds it: policy and runbook snapshots, integrations off. */
function inputV2(id: string, settings: Partial<IncidentSettings> = {}): IncidentInput {
  const base = input(id, {
    features: { slack: false, store: false, pagerduty: false, alertmanager: false },
    ...settings,
  });
  return {
    ...base,
    policy: snapshotPolicy(shippedConfig.policies, 'default')!,
    runbooks: { dag_deployment_regression: shippedConfig.runbooks.dag_deployment_regression! },
  };
}

async function waitFor(check: () => Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('scenario condition not reached');
}

async function start(client: Client, taskQueue: string, wfInput: IncidentInput, alerts: RoutedAlert[]) {
  return client.workflow.signalWithStart('incidentWorkflow', {
    workflowId: wfInput.incidentId,
    taskQueue,
    args: [wfInput],
    signal: alertSignal,
    signalArgs: [{ alerts, receivedAt: at }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

const SLACK_ON = { features: { slack: true, store: false, pagerduty: false, alertmanager: false } };

/**
 * Acknowledge, then resolve, once the incident message is posted. `showsAck`: wait for the message to show
 * the acknowledgement too (the ChatOps loop before `chatops-catch-up` could miss it: a lost update).
 */
async function slackIncident(
  client: Client,
  taskQueue: string,
  id: string,
  slack: SlackDouble,
  showsAck: boolean,
) {
  const handle = await start(client, taskQueue, inputV2(id, SLACK_ON), [alert('fp1', 'firing')]);
  const shows = (text: string) =>
    waitFor(
      () =>
        Promise.resolve(
          slack
            .messages('#data-incidents')
            .some((m) => !m.threadTs && JSON.stringify(m.blocks).includes(text)),
        ),
      600,
    );
  await shows(id);
  await handle.signal(acknowledgeSignal, { user: 'alice', name: 'Alice Kim', via: 'slack', requestId: 'a1' });
  await waitFor(async () => (await handle.query(incidentQuery)).acknowledgedBy !== undefined);
  if (showsAck) await shows('acknowledged by Alice Kim');
  if (!showsAck) {
    // The old loop could also miss the last change before closing and never finish: resolve only once
    // Slack has been quiet for a while, so that no edit is in flight.
    let calls = -1;
    await waitFor(async () => {
      const quiet = calls === slack.calls.length;
      calls = slack.calls.length;
      await new Promise((r) => setTimeout(r, 1_500));
      return quiet;
    });
  }
  await handle.signal(resolveSignal, { user: 'alice', note: 'fixed', requestId: 'r1' });
  await handle.result();
  return { workflowId: handle.workflowId, runId: handle.signaledRunId };
}

export const SCENARIOS: ReplayScenario[] = [
  {
    // Recorded before `chatops-catch-up`: the original ChatOps loop (post, edit on acknowledge, resolve).
    name: 'v2-chatops-slack',
    slack: true,
    run: (client, taskQueue, { slack }) =>
      slackIncident(client, taskQueue, 'replay-v2-chatops', slack!, false),
  },
  {
    // `chatops-catch-up`: Slack refuses the first post (an outage: noted, backoff), and the response of
    // the first thread batch is lost (found again by its idempotency key).
    name: 'v3-chatops-catch-up',
    slack: true,
    async run(client, taskQueue, { slack }) {
      slack!.failNext('chat.postMessage', { error: 'is_archived' }, 1);
      slack!.loseResponseOfNext('chat.postMessage', 1, (body) => typeof body.thread_ts === 'string');
      return slackIncident(client, taskQueue, 'replay-v3-chatops', slack!, true);
    },
  },
  {
    name: 'v2-escalation-acknowledge-resolve',
    realActivities: true,
    async run(client, taskQueue) {
      const wf = inputV2('replay-v2-escalation');
      const handle = await start(client, taskQueue, wf, [alert('fp1', 'firing')]);
      await waitFor(async () => ((await handle.query(incidentQuery)).escalation?.highestLevel ?? 0) >= 1);
      await handle.signal(acknowledgeSignal, {
        user: 'alice',
        name: 'Alice Kim',
        via: 'cli',
        requestId: 'a1',
      });
      await handle.signal(alertSignal, { alerts: [alert('fp1', 'resolved')], receivedAt: at });
      await handle.result();
      return { workflowId: handle.workflowId, runId: handle.signaledRunId };
    },
  },
  {
    name: 'v2-runbook-approval',
    realActivities: true,
    async run(client, taskQueue) {
      const wf = inputV2('replay-v2-runbook');
      const handle = await start(client, taskQueue, wf, [alert('fp1', 'firing')]);
      await handle.signal(runRunbookSignal, {
        runbook: 'dag_deployment_regression',
        user: 'alice',
        requestId: 'r1',
      });
      await waitFor(async () => (await handle.query(incidentQuery)).pendingApprovals.length > 0);
      const approver = (await handle.query(incidentQuery)).pendingApprovals[0]!.allowed[0]!;
      await handle.signal(approveSignal, {
        stepId: 'approve_rollback',
        decision: 'approve',
        user: 'erin-not-allowed',
      });
      await handle.signal(approveSignal, {
        stepId: 'approve_rollback',
        decision: 'approve',
        user: approver.personId,
      });
      // kubectl is not configured where this was recorded: the rollback fails and the runbook escalates.
      await waitFor(async () => (await handle.query(incidentQuery)).runbook?.status === 'failed');
      await handle.signal(resolveSignal, {
        user: approver.personId,
        note: 'rolled back by hand',
        requestId: 'r2',
      });
      await handle.result();
      return { workflowId: handle.workflowId, runId: handle.signaledRunId };
    },
  },
  {
    // The read → record → set-absolute flow of relative changes (patch relative-change-absolute-target):
    // with Airflow not configured where this was recorded, the pool read fails and the runbook escalates.
    name: 'v2-pool-raise-absolute-target',
    realActivities: true,
    async run(client, taskQueue) {
      const wf = {
        ...inputV2('replay-v2-pool-raise'),
        runbooks: {
          connection_pool_exhaustion: shippedConfig.runbooks.connection_pool_exhaustion!,
        },
      };
      const poolAlert: RoutedAlert = {
        ...alert('fp1', 'firing'),
        labels: {
          alertname: 'AirflowTaskFailureRateHigh',
          dag_id: 'customer_etl',
          task_id: 'load',
          pool: 'warehouse',
        },
      };
      const handle = await start(client, taskQueue, wf, [poolAlert]);
      await handle.signal(runRunbookSignal, {
        runbook: 'connection_pool_exhaustion',
        user: 'alice',
        requestId: 'p1',
      });
      await waitFor(async () => (await handle.query(incidentQuery)).runbook?.status === 'failed');
      await handle.signal(resolveSignal, { user: 'alice', note: 'raised the pool by hand', requestId: 'p2' });
      await handle.result();
      return { workflowId: handle.workflowId, runId: handle.signaledRunId };
    },
  },
  {
    // `runbook-request-dedup`, `timeline-number-every-entry`: a second request for the running runbook is
    // refused at once; a second alert fires and resolves, and its numbered lines reach the Slack thread.
    name: 'v4-runbook-dedup-numbered-alerts',
    slack: true,
    async run(client, taskQueue, { slack }) {
      const wf = inputV2('replay-v4-runbook-dedup', SLACK_ON);
      const handle = await start(client, taskQueue, wf, [alert('fp1', 'firing')]);
      await handle.signal(runRunbookSignal, {
        runbook: 'dag_deployment_regression',
        user: 'alice',
        requestId: 'r1',
      });
      await waitFor(async () => (await handle.query(incidentQuery)).pendingApprovals.length > 0);
      await handle.signal(runRunbookSignal, {
        runbook: 'dag_deployment_regression',
        user: 'bob',
        requestId: 'r2',
      });
      await handle.signal(alertSignal, { alerts: [alert('fp2', 'firing')], receivedAt: at });
      await handle.signal(alertSignal, { alerts: [alert('fp2', 'resolved')], receivedAt: at });
      const approver = (await handle.query(incidentQuery)).pendingApprovals[0]!.allowed[0]!;
      await handle.signal(approveSignal, {
        stepId: 'approve_rollback',
        decision: 'approve',
        user: approver.personId,
      });
      // kubectl is not configured where this was recorded: the rollback fails and the runbook escalates.
      await waitFor(async () => (await handle.query(incidentQuery)).runbook?.status === 'failed');
      const thread = () => slack!.messages('#data-incidents').filter((m) => m.threadTs !== undefined);
      await waitFor(() => Promise.resolve(thread().some((m) => (m.text ?? '').includes('resolved'))), 600);
      await handle.signal(resolveSignal, {
        user: approver.personId,
        note: 'rolled back by hand',
        requestId: 'r3',
      });
      await handle.result();
      return { workflowId: handle.workflowId, runId: handle.signaledRunId };
    },
  },
  {
    name: 'v1-auto-resolve',
    async run(client, taskQueue) {
      const wf = input('replay-v1-auto-resolve');
      const handle = await start(client, taskQueue, wf, [alert('fp1', 'firing')]);
      await handle.signal(alertSignal, { alerts: [alert('fp1', 'firing')], receivedAt: at });
      await handle.signal(alertSignal, { alerts: [alert('fp1', 'resolved')], receivedAt: at });
      await handle.result();
      return { workflowId: handle.workflowId, runId: handle.signaledRunId };
    },
  },
  {
    name: 'v1-manual-actions',
    async run(client, taskQueue) {
      const wf = input('replay-v1-manual-actions');
      const handle = await start(client, taskQueue, wf, [alert('fp1', 'firing'), alert('fp2', 'firing')]);
      await handle.signal(acknowledgeSignal, { user: 'alice', via: 'cli', requestId: 'r1' });
      await handle.signal(acknowledgeSignal, { user: 'alice', via: 'cli', requestId: 'r1' });
      await handle.signal(escalateSignal, { user: 'alice', reason: 'need help' });
      await handle.signal(approveSignal, { stepId: 'rollback', decision: 'approve', user: 'bob' });
      await handle.signal(alertSignal, { alerts: [alert('fp1', 'resolved')], receivedAt: at });
      await handle.signal(resolveSignal, { user: 'alice', note: 'fixed by hand', requestId: 'r2' });
      await handle.result();
      return { workflowId: handle.workflowId, runId: handle.signaledRunId };
    },
  },
  {
    name: 'v1-continue-as-new',
    async run(client, taskQueue) {
      const wf = input('replay-v1-continue-as-new', { maxSignalsPerRun: 3 });
      const handle = await start(client, taskQueue, wf, [alert('fp1', 'firing')]);
      for (let i = 2; i <= 4; i++) {
        await handle.signal(alertSignal, { alerts: [alert(`fp${i}`, 'firing')], receivedAt: at });
      }
      for (let i = 1; i <= 4; i++) {
        await handle.signal(alertSignal, { alerts: [alert(`fp${i}`, 'resolved')], receivedAt: at });
      }
      await client.workflow.getHandle(handle.workflowId).result();
      return { workflowId: handle.workflowId, runId: handle.signaledRunId };
    },
  },
];

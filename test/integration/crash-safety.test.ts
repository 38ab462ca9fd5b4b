/**
 * Crash safety on the real Temporal dev server, with the worker in its own process killed by SIGKILL:
 * an escalation waiting on its timer still fires the next level on time with nothing paged twice, and a
 * rollback interrupted around its `kubectl rollout undo` is never repeated.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/load-config';
import type { IncidentView } from '../../src/domain/incident-view';
import { resolveRole } from '../../src/domain/oncall';
import {
  approveSignal,
  incidentQuery,
  resolveSignal,
  runRunbookSignal,
} from '../../src/workflows/definitions';
import { startKubeApiServerDouble, type KubeApiServerDouble } from '../doubles/kube-apiserver-double';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { startTwilioDouble, type TwilioDouble } from '../doubles/twilio-double';
import { openIncident } from '../helpers/incident';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process-control';

const address = process.env.TEMPORAL_TEST_ADDRESS!;
const SID = 'AC0123456789abcdef0123456789abcdef';
let env: TestWorkflowEnvironment;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  env = await devServerEnv();
});

afterAll(async () => {
  for (const w of workers) await w.kill();
  await env?.teardown();
});

/** A copy of the shipped config with some files replaced. */
function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-crash-'));
  cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

async function spawn(options: Parameters<typeof spawnWorker>[0]): Promise<WorkerProcess> {
  const worker = await spawnWorker(options);
  workers.push(worker);
  return worker;
}

describe('a worker killed while an escalation waits', () => {
  let slack: SlackDouble;
  let twilio: TwilioDouble;

  beforeAll(async () => {
    slack = await startSlackDouble({ token: 'xoxb-test' });
    twilio = await startTwilioDouble({ accountSid: SID, authToken: 'secret' });
  });
  afterAll(async () => {
    await slack?.close();
    await twilio?.close();
  });

  it('pages the next level at its time after a new worker starts, and nothing twice', async () => {
    const dir = configDir({
      'escalation-policies.yaml': `policies:
  default:
    levels:
      - { name: L1 Slack alert, delay: 0s, targets: [{ slack_channel: $incident }], channels: [slack] }
      - { name: L2 primary, delay: 20s, targets: [{ role: primary }], channels: [sms] }
      - { name: L3 secondary, delay: 30s, since: opened, targets: [{ role: secondary }], channels: [phone] }
`,
    });
    const config = loadConfig(dir);
    const taskQueue = uniqueTaskQueue('crash-esc');
    const workerEnv = {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: slack.apiUrl,
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: 'secret',
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_URL: twilio.url,
    };
    const first = await spawn({ address, taskQueue, configDir: dir, env: workerEnv });
    const { incidentId } = await openIncident({
      address,
      taskQueue,
      config,
      settings: {
        features: { slack: true, store: false, pagerduty: false, alertmanager: false },
        defaultSlackChannel: '#data-incidents',
      },
    });
    const handle = env.client.workflow.getHandle(incidentId);
    const paged = await eventually(async () => {
      const v = await handle.query(incidentQuery);
      return v.escalation?.pages.some((p) => p.level === 1 && p.status === 'sent') ? v : undefined;
    });
    await first.kill();
    await new Promise((r) => setTimeout(r, 3_000));
    await spawn({ address, taskQueue, configDir: dir, env: workerEnv });

    const v: IncidentView = await eventually(
      async () => {
        const view = await handle.query(incidentQuery);
        return view.escalation?.pages.some((p) => p.level === 3) ? view : undefined;
      },
      60_000,
      'level 3',
    );
    const opened = Date.parse(v.openedAt);
    expect(Date.parse(v.escalation!.pagedAt['2']!) - opened).toBe(20_000);
    expect(Date.parse(v.escalation!.pagedAt['3']!) - opened).toBe(30_000);
    const dag = paged.alerts[0]!.labels.dag_id!;
    const sms = twilio.requests.filter((r) => r.resource === 'Messages' && r.form.Body?.includes(dag));
    const calls = twilio.requests.filter((r) => r.resource === 'Calls' && r.form.Twiml?.includes(dag));
    const [primary] = resolveRole(config.oncall, 'primary', opened + 20_000);
    expect(sms.map((r) => r.form.To)).toEqual([config.oncall.people[primary!]!.phone]);
    expect(calls).toHaveLength(1);
    // The SMS went out when L2 was due (a few seconds of slack for the new worker), not at an old time.
    expect(sms[0]!.at - opened).toBeGreaterThanOrEqual(20_000);
    expect(sms[0]!.at - opened).toBeLessThan(26_000);
    const l1Posts = slack
      .callsTo('chat.postMessage')
      .filter((c) => String(c.body.text).startsWith('Page L1') && String(c.body.text).includes(dag));
    expect(l1Posts).toHaveLength(1);
    await handle.signal(resolveSignal, { user: 'test' });
  });
});

describe('a worker killed around the rollback', () => {
  let kube: KubeApiServerDouble;

  beforeAll(async () => {
    kube = await startKubeApiServerDouble();
    kube.seedDeployment({
      namespace: 'data-platform',
      name: 'airflow-workers',
      revisions: [
        { image: 'registry.local/airflow-workers:v2.3.0', changeCause: 'deploy v2.3.0' },
        { image: 'registry.local/airflow-workers:v2.3.1', changeCause: 'deploy v2.3.1' },
      ],
    });
  });
  afterAll(async () => {
    await kube?.close();
  });

  it('does not repeat `kubectl rollout undo` after the restart', async () => {
    const dir = configDir({
      'runbooks/quick_rollback.yaml': `name: quick_rollback
title: Roll back the Airflow workers (crash test)
risk: risky
match: { incident_types: [task_temporary_failure] }
steps:
  - id: approve
    type: approval
    prompt: Roll back?
    approvers: [{ role: primary }]
    timeout: 10m
  - id: rollback
    type: action
    action: kubectl.rollout_undo
    with: { namespace: data-platform, deployment: airflow-workers }
    timeout: 20s
  - id: wait_for_rollout
    type: action
    action: kubectl.rollout_status
    with: { namespace: data-platform, deployment: airflow-workers, timeout: 1m }
`,
    });
    const config = loadConfig(dir);
    const taskQueue = uniqueTaskQueue('crash-undo');
    const workerEnv = { KUBECONFIG: kube.writeKubeconfig(dir) };
    const first = await spawn({ address, taskQueue, configDir: dir, env: workerEnv });
    const { incidentId } = await openIncident({ address, taskQueue, config, severity: 'P4' });
    const handle = env.client.workflow.getHandle(incidentId);
    await handle.signal(runRunbookSignal, { runbook: 'quick_rollback', user: 'test', requestId: 'crash-rb' });
    const pending = await eventually(async () => {
      const v = await handle.query(incidentQuery);
      return v.pendingApprovals[0];
    });

    // Kill the worker the moment kubectl's rollback PATCH reaches the API server: the PATCH is applied,
    // but the worker dies before the activity's result reaches the workflow (or just after).
    let killed: Promise<void> | undefined;
    kube.onRequest((request) => {
      if (request.method === 'PATCH' && request.path.endsWith('/deployments/airflow-workers') && !killed) {
        killed = new Promise((r) => setTimeout(r, 30)).then(() => first.kill());
      }
    });
    await handle.signal(approveSignal, {
      stepId: 'approve',
      decision: 'approve',
      user: pending.allowed[0]!.personId,
      requestId: 'crash-approve',
    });
    await eventually(() => Promise.resolve(killed ? true : undefined), 30_000, 'the rollback PATCH');
    await killed;
    await spawn({ address, taskQueue, configDir: dir, env: workerEnv });

    const v = await eventually(
      async () => {
        const view = await handle.query(incidentQuery);
        return view.runbook?.status === 'succeeded' || view.runbook?.status === 'failed' ? view : undefined;
      },
      90_000,
      'the runbook to finish',
    );
    expect(v.runbook).toMatchObject({ status: 'succeeded' });
    expect(kube.patchCount('airflow-workers', 'data-platform')).toBe(1);
    expect(kube.history('data-platform', 'airflow-workers').at(-1)!.image).toBe(
      'registry.local/airflow-workers:v2.3.0',
    );
    await handle.signal(resolveSignal, { user: 'test' });
  });
});

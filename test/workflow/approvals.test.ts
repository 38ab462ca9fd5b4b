/**
 * Approval gates on the time-skipping server: a timeout follows `on_timeout`, a rejection ends the runbook
 * and escalates, and a second request for the runbook waiting on its gate is refused instead of queued.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  actionOutcomeQuery,
  approveSignal,
  incidentQuery,
  resolveSignal,
  runRunbookSignal,
} from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { openIncident } from '../helpers/incident';
import { minutesAfterOpen, startPagingDoubles, type PagingDoubles } from '../helpers/paging-doubles';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let doubles: PagingDoubles;
const features = { slack: true, store: false, pagerduty: false, alertmanager: false };
const workerEnv = (): Record<string, string> => doubles.workerEnv();

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  doubles = await startPagingDoubles();
});

afterAll(async () => {
  await doubles?.close();
  await env?.teardown();
});

describe('approval gates', () => {
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const taskQueue = uniqueTaskQueue('approvals');
  const opened: string[] = [];

  beforeAll(async () => {
    worker = await startTestWorker(env, { taskQueue, env: workerEnv() });
  });
  afterAll(async () => {
    await worker?.stop();
  });
  afterEach(async () => {
    for (const id of opened.splice(0)) {
      await env.client.workflow
        .getHandle(id)
        .signal(resolveSignal, { user: 'test' })
        .catch(() => undefined);
    }
  });

  async function incidentAwaitingRollbackApproval() {
    const { incidentId } = await openIncident({ address: env.address, taskQueue, settings: { features } });
    opened.push(incidentId);
    const handle = env.client.workflow.getHandle(incidentId);
    await handle.signal(runRunbookSignal, {
      runbook: 'dag_deployment_regression',
      user: 'alice',
      via: 'test',
      requestId: 'rb-1',
    });
    await env.sleep('1s');
    const v = await handle.query(incidentQuery);
    expect(v.pendingApprovals.map((a) => a.stepId)).toEqual(['approve_rollback']);
    return { handle, view: v };
  }

  it('follows on_timeout: nobody approves within 5 minutes, so the runbook stops and the incident escalates', async () => {
    const { handle } = await incidentAwaitingRollbackApproval();
    await env.sleep('5m');
    await env.sleep('5s');
    const v = await handle.query(incidentQuery);
    expect(v.runbook).toMatchObject({ runbook: 'dag_deployment_regression', status: 'failed' });
    expect(v.runbook!.steps.approve_rollback!.approval!.status).toBe('timed_out');
    expect(v.timeline.some((e) => e.kind === 'approval_timed_out')).toBe(true);
    // L2 was due at 10 minutes; the timeout escalated it at 5.
    expect(minutesAfterOpen(v, 2)).toBeCloseTo(5, 1);
  });

  it('ends the runbook and escalates when an allowed approver rejects', async () => {
    const { handle, view } = await incidentAwaitingRollbackApproval();
    const approver = view.pendingApprovals[0]!.allowed[0]!;
    await handle.signal(approveSignal, {
      stepId: 'approve_rollback',
      decision: 'reject',
      user: approver.personId,
      comment: 'the deployment is not the cause',
    });
    await env.sleep('10s');
    const v = await handle.query(incidentQuery);
    expect(v.runbook).toMatchObject({ status: 'failed' });
    expect(v.runbook!.steps.approve_rollback!.status).toBe('rejected');
    expect(v.runbook!.steps.rollback!.status).toBe('pending');
    expect(v.timeline.some((e) => e.kind === 'approval_recorded' && e.text.includes('rejected'))).toBe(true);
    expect(minutesAfterOpen(v, 2)).toBeLessThan(1);
  });

  it('refuses a request for the runbook that is already running, so it does not run again after it ends', async () => {
    const { handle, view } = await incidentAwaitingRollbackApproval();
    await handle.signal(runRunbookSignal, {
      runbook: 'dag_deployment_regression',
      user: 'bob',
      via: 'test',
      requestId: 'rb-2',
    });
    await env.sleep('1s');
    expect(await handle.query(actionOutcomeQuery, 'rb-2')).toEqual({
      requestId: 'rb-2',
      ok: false,
      message: 'runbook dag_deployment_regression is already running',
    });
    const approver = view.pendingApprovals[0]!.allowed[0]!;
    await handle.signal(approveSignal, {
      stepId: 'approve_rollback',
      decision: 'reject',
      user: approver.personId,
    });
    await env.sleep('10s');
    const v = await handle.query(incidentQuery);
    expect(v.runbook).toMatchObject({ runId: 'dag_deployment_regression#1', status: 'failed' });
    expect(v.timeline.filter((e) => e.kind === 'runbook_started')).toHaveLength(1);
    expect(v.pendingApprovals).toEqual([]);
  });
});

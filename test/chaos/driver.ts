/**
 * Runs one chaos cell: opens an incident whose runbook is one of the shipped five on a real worker process,
 * kills that worker at one step boundary (or restarts the Temporal server), starts a new worker, drives the
 * runbook to the end (approvals through the `approve` signal), resolves the incident and checks that
 * nothing was lost and no side effect happened twice.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { AppConfig } from '../../src/config/load-config';
import type { IncidentView } from '../../src/domain/incident-view';
import {
  approveSignal,
  incidentQuery,
  resolveSignal,
  runRunbookSignal,
} from '../../src/workflows/definitions';
import { openIncident } from '../helpers/incident';
import { openTestStore, type TestStore } from '../helpers/store';
import { uniqueTaskQueue } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process-control';
import { startCellDoubles, type CellDoubles } from './doubles';
import type { Scenario, StepKill } from './scenarios';
import { commonSideEffectProblems, timelineProblems } from './verify';

/** `none` is the control: the same run and checks without any chaos. */
export type KillPoint = 'none' | 'before' | 'during' | 'after' | 'server_restart';

export interface Cell {
  scenario: Scenario;
  /** The step killed at (the restart step for `server_restart`). */
  step: string;
  point: KillPoint;
}

export interface CellResult {
  runbook: string;
  step: string;
  point: KillPoint;
  ok: boolean;
  problems: string[];
  seconds: number;
  /** For a failed cell: the Slack posts and the worker output, to see what happened. */
  trace?: string[];
}

export interface SuiteContext {
  /** Temporal address for worker kills (the global test server). */
  address: string;
  /** The suite's own server for Temporal restarts. */
  restartable: { address: string; restart(): Promise<void> };
  config: AppConfig;
  configDir: string;
  workflowBundlePath: string;
  prometheusUrl: string;
}

const CELL_DEADLINE_MS = 8 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stepKill(cell: Cell): StepKill {
  const kill = cell.scenario.steps.find((s) => s.step === cell.step);
  if (!kill) throw new Error(`${cell.scenario.runbook} has no step ${cell.step}`);
  return kill;
}

function currentStep(view: IncidentView, scenario: Scenario): string | undefined {
  const run = view.runbook;
  if (!run || run.runbook !== scenario.runbook || run.status !== 'running') return undefined;
  return Object.entries(run.steps).find(([, s]) => s.status !== 'pending' && !s.finishedAt)?.[0];
}

export async function runCell(ctx: SuiteContext, cell: Cell): Promise<CellResult> {
  const started = Date.now();
  const problems: string[] = [];
  const id = randomBytes(4).toString('hex');
  const restart = cell.point === 'server_restart';
  const address = restart ? ctx.restartable.address : ctx.address;
  const taskQueue = uniqueTaskQueue(`chaos-${cell.scenario.runbook.slice(0, 12)}`);
  const doubles: CellDoubles = await startCellDoubles(ctx.prometheusUrl);
  const workers: WorkerProcess[] = [];
  const trace: string[] = [];
  // A store of its own (a fresh PostgreSQL schema shared by the cell's worker processes): with the
  // history of earlier cells, a confident diagnosis would start runbooks the cell starts itself.
  const stored: TestStore = await openTestStore('postgres');
  await stored.store.migrate();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  try {
    cell.scenario.seed(doubles, id);
    const kill = restart || cell.point === 'none' ? undefined : stepKill(cell);
    const spawn = async (withKill: boolean) => {
      const w = await spawnWorker({
        address,
        taskQueue,
        configDir: ctx.configDir,
        env: doubles.workerEnv,
        store: stored.options,
        workflowBundlePath: ctx.workflowBundlePath,
        ...(withKill && kill && cell.point === 'before' ? { killOnActivity: kill.before } : {}),
      });
      workers.push(w);
      return w;
    };
    const first = await spawn(true);
    let firstDead = false;
    void first.exited.then(() => {
      firstDead = true;
    });
    const armRequest = () =>
      doubles.proxies[kill!.request.double].arm({
        match: kill!.request.match,
        mode: cell.point === 'during' ? 'during' : 'after',
        onHit: () => first.kill(),
      });
    let armed = false;
    if (kill && (cell.point === 'during' || cell.point === 'after') && kill.request.arm === 'start') {
      armRequest();
      armed = true;
    }

    const { incidentId } = await openIncident({
      address,
      taskQueue,
      config: ctx.config,
      labels: cell.scenario.labels(id),
      settings: {
        features: { slack: true, store: true, pagerduty: true, alertmanager: false },
        defaultSlackChannel: '#data-incidents',
      },
    });
    const handle = client.workflow.getHandle(incidentId);
    // A runbook that does not start by itself is requested once the diagnosis is in: a confident
    // diagnosis starts it on its own, and a second request would queue a second run after the first.
    let requested = !cell.scenario.startBySignal;
    const openedAt = Date.now();

    // Drive: new worker after the kill, approvals once the step asks, until the runbook is done.
    let second: WorkerProcess | undefined;
    let restarted = false;
    const approved = new Set<string>();
    const deadline = Date.now() + CELL_DEADLINE_MS;
    let view: IncidentView | undefined;
    for (;;) {
      if (Date.now() > deadline) {
        problems.push(
          `runbook did not finish in time (last step ${view ? currentStep(view, cell.scenario) : '?'})`,
        );
        break;
      }
      if (kill && firstDead && !second) second = await spawn(false);
      try {
        view = await handle.query(incidentQuery);
      } catch {
        await sleep(300);
        continue;
      }
      if (!requested && (view.runbook || view.diagnosis.length > 0 || Date.now() - openedAt > 30_000)) {
        if (!view.runbook)
          await handle.signal(runRunbookSignal, {
            runbook: cell.scenario.runbook,
            user: 'chaos',
            requestId: `chaos-run-${id}`,
          });
        requested = true;
      }
      const step = currentStep(view, cell.scenario);
      if (kill && !armed && step === cell.step && cell.point !== 'before') {
        armRequest();
        armed = true;
      }
      if (restart && !restarted && step === cell.step && !(await slackOrPageInFlight(handle))) {
        await first.kill();
        await ctx.restartable.restart();
        restarted = true;
        second = await spawn(false);
        continue;
      }
      const waitingForChaos = (restart && !restarted) || (kill !== undefined && !second);
      for (const pending of view.pendingApprovals) {
        // Approvals wait until the chaos happened, so a kill or restart at an approval step finds it pending.
        if (approved.has(pending.stepId) || (waitingForChaos && pending.stepId === cell.step)) continue;
        await handle.signal(approveSignal, {
          stepId: pending.stepId,
          decision: 'approve',
          user: pending.allowed[0]!.personId,
          requestId: `chaos-approve-${id}-${pending.stepId}`,
        });
        approved.add(pending.stepId);
      }
      const status = view.runbook?.runbook === cell.scenario.runbook ? view.runbook.status : undefined;
      if (status && status !== 'running') {
        if (status !== 'succeeded') problems.push(`runbook ${status}: ${view.runbook?.outcomeReason ?? ''}`);
        break;
      }
      await sleep(250);
    }
    if (kill && !firstDead) problems.push(`kill point never reached (${cell.point} ${cell.step})`);
    if (restart && !restarted) problems.push(`server restart never happened at ${cell.step}`);

    await handle.signal(resolveSignal, { user: 'chaos', requestId: `chaos-resolve-${id}` });
    const closed = await pollUntil(async () => {
      const v = await handle.query(incidentQuery);
      return v.status === 'closed' ? v : undefined;
    }, 120_000);
    if (!closed) problems.push(`incident not closed (status ${view?.status ?? '?'})`);
    view = closed ?? view;
    if (view?.runbookHistory?.length)
      problems.push(
        `the incident ran ${view.runbookHistory.length + 1} runbooks: ${view.runbookHistory.map((r) => `${r.runId} ${r.status}`).join(', ')}, then ${view.runbook?.runId ?? '?'}`,
      );
    if (view) {
      problems.push(...(await timelineProblems(stored.store, incidentId, view, cell.scenario)));
      problems.push(...commonSideEffectProblems(doubles));
      problems.push(...cell.scenario.verify(doubles, id));
    }
  } catch (err) {
    problems.push(`error: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (problems.length > 0) {
      for (const c of doubles.slack.callsTo('chat.postMessage'))
        trace.push(
          `slack post ${JSON.stringify({ channel: c.body.channel, thread_ts: c.body.thread_ts, text: c.body.text, status: c.status }).slice(0, 300)}`,
        );
      for (const w of workers) trace.push(`worker output: ${w.output().slice(-3000)}`);
    }
    for (const w of workers) await w.kill();
    await connection.close();
    await doubles.close();
    await stored.cleanup();
  }
  return {
    runbook: cell.scenario.runbook,
    step: cell.step,
    point: cell.point,
    ok: problems.length === 0,
    problems,
    seconds: Math.round((Date.now() - started) / 1000),
    ...(problems.length > 0 ? { trace } : {}),
  };
}

/**
 * Slack posts and pages are not idempotent when their completion is lost (covered by the kill cells):
 * a restart waits until none is in flight, so that it tests the restart itself.
 */
async function slackOrPageInFlight(handle: WorkflowHandle): Promise<boolean> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).some((a) =>
    ['notifySlack', 'updateSlackMessage', 'pageTarget'].includes(a.activityType?.name ?? ''),
  );
}

/** Polls `fn` every 500 ms until it returns a value, or undefined after `timeoutMs`. */
async function pollUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // the server may still be coming back
    }
    await sleep(500);
  }
  return undefined;
}

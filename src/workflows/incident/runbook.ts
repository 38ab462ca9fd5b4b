import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import { applyAlerts } from '../../domain/incident';
import { runbookRunsRemoved } from '../../domain/state-bounds';
import { durationMs, formatDuration } from '../../domain/duration';
import {
  type ActionStep,
  type ApprovalStep,
  type CheckStep,
  type NotifyStep,
  retryDelaysMs,
  actionTimeoutMs,
  type Runbook,
  runbookVariables,
  type WaitStep,
} from '../../domain/runbook';
import {
  MAX_STEP_EXECUTIONS,
  newStepState,
  nextMove,
  type RunbookRunState,
  type StepOutcome,
  type StepState,
  statusDuring,
} from '../../domain/runbook-run';
import { renderTemplate } from '../../domain/template';
import { ErrorType } from '../../domain/errors';
import { runAction, StepInputError } from './actions';
import { quick } from './proxies';
import {
  act,
  emit,
  failureMessage,
  intakeOptions,
  isClosed,
  note,
  numberTimeline,
  now,
  nowIso,
  progress,
  remember,
  type Runtime,
  setStatus,
  touch,
} from './runtime';

/** Failures a later attempt of the same action cannot fix. */
const NOT_RETRIED: readonly string[] = [
  ErrorType.NotAllowed,
  ErrorType.NotConfigured,
  ErrorType.AuthFailed,
  ErrorType.NotFound,
  ErrorType.Rejected,
];

const CLOSED = 'cancelled' as const;

/** Labels runbook templates can use: the first firing alert's labels plus incident fields. */
export function incidentLabels(rt: Runtime): Record<string, string> {
  const alerts = Object.values(rt.state.alerts);
  const first = alerts.find((a) => a.status === 'firing') ?? alerts[0];
  return {
    ...(first?.labels ?? {}),
    ...rt.state.facts,
    service: rt.state.service,
    incident_id: rt.state.incidentId,
    dedup_key: rt.state.dedupKey,
    severity: rt.state.severity,
    ...(rt.state.number ? { incident_number: rt.state.number } : {}),
  };
}

/** Renders a template with the run's variables; a missing variable makes the step fail (not the workflow). */
export function render(run: RunbookRunState, template: string, field: string): string {
  const value = renderTemplate(template, run.variables);
  if (value === undefined)
    throw new StepInputError(`${field}: template "${template}" needs a label the incident does not have`);
  return value;
}

/**
 * Why a request to run `name` must be refused at once, or null: the same runbook is running or already
 * requested. Such a request queued until the run ended would start it a second time.
 */
export function duplicateRunbookRequest(rt: Runtime, name: string): string | null {
  if (rt.state.runbook?.status === 'running' && rt.state.runbook.runbook === name)
    return `runbook ${name} is already running`;
  if (rt.runbookRequests.some((r) => r.runbook === name)) return `runbook ${name} is already requested`;
  return null;
}

/**
 * Starts a runbook for the incident if it may: the runbook is one of the incident's snapshot, no other
 * run is active, and every param can be filled from the incident's labels. Returns why not otherwise.
 */
export function startRun(
  rt: Runtime,
  name: string,
  by: string,
): { ok: true } | { ok: false; message: string } {
  if (isClosed(rt)) return { ok: false, message: `incident is ${rt.state.status}` };
  const runbook = rt.input.runbooks?.[name];
  if (!runbook) return { ok: false, message: `runbook "${name}" is not available for this incident` };
  const current = rt.state.runbook;
  if (current?.status === 'running')
    return { ok: false, message: `runbook ${current.runbook} is already running` };
  const { variables, missing } = runbookVariables(runbook, incidentLabels(rt));
  if (missing.length > 0) {
    return {
      ok: false,
      message: `runbook ${name} needs labels the incident does not have: ${missing.join(', ')}`,
    };
  }
  if (current) {
    rt.state.runbookHistory ??= [];
    rt.state.runbookHistory.push({
      runId: current.runId,
      runbook: current.runbook,
      status: current.status,
      startedBy: current.startedBy,
      ...(current.finishedAt ? { finishedAt: current.finishedAt } : {}),
    });
  }
  // Runs trimmed from the history still count: run ids stay unique within the incident.
  const n = (rt.state.runbookHistory?.length ?? 0) + runbookRunsRemoved(rt.state) + 1;
  rt.state.runbook = {
    runId: `${name}#${n}`,
    runbook: name,
    title: runbook.title,
    risk: runbook.risk,
    status: 'running',
    startedAt: nowIso(),
    startedBy: by,
    stepIndex: 0,
    executions: 0,
    variables,
    steps: Object.fromEntries(runbook.steps.map((s) => [s.id, newStepState(s)])),
  };
  note(rt, 'runbook_started', `Runbook ${name} started by ${by}: ${runbook.title}`, {
    actor: by,
    data: { runbook: name },
  });
  progress(rt);
  return { ok: true };
}

/**
 * The runbook part: starts requested runbooks one at a time and interprets their steps in order. Every
 * step's state and activity results live in the run state, so after a crash or continue-as-new the run
 * resumes at the same step without repeating a side effect.
 */
export async function runRunbooks(rt: Runtime): Promise<void> {
  while (!isClosed(rt)) {
    const run = rt.state.runbook;
    if (run?.status === 'running') {
      await executeRun(rt, run);
      continue;
    }
    const version = rt.version;
    await condition(() => isClosed(rt) || rt.runbookRequests.length > 0 || rt.version !== version);
    const request = rt.runbookRequests.shift();
    if (!request) continue;
    const started = startRun(rt, request.runbook, request.by);
    if (!started.ok)
      note(rt, 'note', `Runbook ${request.runbook} not started: ${started.message}`, { actor: request.by });
    remember(
      rt,
      request.requestId,
      started.ok,
      started.ok ? `runbook ${request.runbook} started` : started.message,
    );
  }
  const run = rt.state.runbook;
  if (run?.status === 'running') {
    emit(rt, {
      kind: 'runbook',
      runbook: run.runbook,
      incidentType: rt.state.incidentType,
      outcome: 'cancelled',
    });
    run.status = 'cancelled';
    run.finishedAt = nowIso();
    run.outcomeReason = 'incident resolved';
    for (const st of Object.values(run.steps)) {
      if (st.approval?.status === 'pending') st.approval.status = 'cancelled';
    }
  }
}

async function executeRun(rt: Runtime, run: RunbookRunState): Promise<void> {
  const runbook = rt.input.runbooks?.[run.runbook];
  if (!runbook) {
    finishRun(rt, run, 'failed', true, `runbook ${run.runbook} is missing from the incident snapshot`);
    return;
  }
  while (run.status === 'running' && !isClosed(rt)) {
    if (rt.state.automationPaused) {
      await condition(() => isClosed(rt) || !rt.state.automationPaused);
      continue;
    }
    if (run.executions >= MAX_STEP_EXECUTIONS) {
      finishRun(rt, run, 'failed', true, `stopped after ${MAX_STEP_EXECUTIONS} step executions (goto loop?)`);
      return;
    }
    const step = runbook.steps[run.stepIndex];
    if (!step) {
      finishRun(rt, run, 'succeeded', false, 'all steps done');
      return;
    }
    const st = (run.steps[step.id] ??= newStepState(step));
    setStatus(rt, statusDuring(step));
    const outcome = await executeStep(rt, run, runbook, step, st);
    if (outcome === CLOSED) return;
    run.executions += 1;
    st.finishedAt = nowIso();
    emit(rt, { kind: 'step', runbook: run.runbook, step: step.id, outcome });
    if (step.type === 'approval' && outcome === 'timed_out')
      emit(rt, { kind: 'approval', runbook: run.runbook, decision: 'timed_out' });
    progress(rt);
    const move = nextMove(runbook, run.stepIndex, outcome);
    if (move.kind === 'step') {
      const target = runbook.steps[move.index]!;
      if (move.index <= run.stepIndex || run.steps[target.id]?.status !== 'pending') {
        run.steps[target.id] = newStepState(target);
      }
      run.stepIndex = move.index;
      touch(rt);
    } else {
      finishRun(rt, run, move.status, move.escalate, move.reason);
    }
  }
}

function finishRun(
  rt: Runtime,
  run: RunbookRunState,
  status: 'succeeded' | 'failed' | 'aborted',
  escalate: boolean,
  reason: string,
): void {
  run.status = status;
  run.finishedAt = nowIso();
  run.escalate = escalate;
  run.outcomeReason = reason;
  emit(rt, { kind: 'runbook', runbook: run.runbook, incidentType: rt.state.incidentType, outcome: status });
  if (status === 'succeeded') {
    rt.state.mitigatedAt ??= nowIso();
    note(rt, 'step_succeeded', `Runbook ${run.runbook} succeeded`, {
      actor: 'automation',
      data: { runbook: run.runbook },
    });
    resolveOneShotAlerts(rt, run.runbook);
    setStatus(rt, 'monitoring');
  } else {
    note(rt, 'step_failed', `Runbook ${run.runbook} ${status}: ${reason}${escalate ? ' — escalating' : ''}`, {
      actor: 'automation',
      data: { runbook: run.runbook, status },
    });
    setStatus(rt, 'investigating');
    if (escalate) rt.escalationRequests.push({ reason: `runbook ${run.runbook} ${status}: ${reason}` });
  }
  touch(rt, true);
}

/**
 * Alerts from callbacks and scripts are one-shot events that may never send "resolved": once a runbook
 * fixed the problem they are resolved by it. Alertmanager alerts resolve themselves when the condition
 * clears, so they are left to Alertmanager.
 */
function resolveOneShotAlerts(rt: Runtime, runbook: string): void {
  const at = nowIso();
  const resolved = Object.values(rt.state.alerts)
    .filter((a) => a.status === 'firing' && a.source !== 'alertmanager')
    .map((a) => ({
      fingerprint: a.fingerprint,
      status: 'resolved' as const,
      source: a.source,
      name: a.name,
      labels: a.labels,
      annotations: { summary: a.summary, resolved_by: `runbook ${runbook}` },
      startsAt: a.startsAt,
      endsAt: at,
      groupKey: `runbook:${runbook}`,
      severity: a.severity,
    }));
  if (resolved.length > 0) {
    applyAlerts(rt.state, resolved, at, rt.limits, intakeOptions(rt));
    numberTimeline(rt);
  }
}

async function executeStep(
  rt: Runtime,
  run: RunbookRunState,
  runbook: Runbook,
  step: Runbook['steps'][number],
  st: StepState,
): Promise<StepOutcome | typeof CLOSED> {
  st.startedAt ??= nowIso();
  switch (step.type) {
    case 'action':
      return executeAction(rt, run, step, st);
    case 'approval':
      return executeApproval(rt, run, step, st);
    case 'check':
      return executeCheck(rt, run, step, st);
    case 'notify':
      return executeNotify(rt, run, step, st);
    case 'wait':
      return executeWait(rt, step, st);
  }
}

async function executeAction(
  rt: Runtime,
  run: RunbookRunState,
  step: ActionStep,
  st: StepState,
): Promise<StepOutcome | typeof CLOSED> {
  const delays = retryDelaysMs(step.retry);
  const attempts = delays.length + 1;
  for (;;) {
    if (st.status === 'retry_wait' && st.nextAttemptAt !== undefined) {
      const wait = st.nextAttemptAt - now();
      if (wait > 0) {
        await condition(() => isClosed(rt), wait, {
          summary: `retry ${step.id} in ${formatDuration(wait)} (attempt ${st.attempts + 1} of ${attempts})`,
        });
        if (isClosed(rt)) return CLOSED;
      }
    }
    st.status = 'running';
    st.attempts += 1;
    delete st.nextAttemptAt;
    st.actor = approvedBy(run) ?? 'automation';
    note(rt, 'step_started', `Step ${step.id} (${step.action}) attempt ${st.attempts} of ${attempts}`, {
      actor: st.actor,
      data: { runbook: run.runbook, step: step.id, attempt: st.attempts },
    });
    try {
      const summary = step.summary ? renderTemplate(step.summary, run.variables) : undefined;
      await runAction(rt, run, step, st, actionTimeoutMs(step), summary ?? `${step.action} (${step.id})`);
      st.status = 'succeeded';
      delete st.error;
      note(rt, 'step_succeeded', `Step ${step.id} succeeded${describeData(st)}`, {
        actor: st.actor,
        data: { runbook: run.runbook, step: step.id, attempts: st.attempts },
      });
      return 'succeeded';
    } catch (err) {
      if (isCancellation(err) && isClosed(rt)) return CLOSED;
      const failure =
        err instanceof StepInputError
          ? { type: ErrorType.Rejected, message: err.message }
          : failureMessage(err);
      st.error = failure;
      const retryable = !NOT_RETRIED.includes(failure.type) && st.attempts < attempts;
      note(
        rt,
        'step_failed',
        `Step ${step.id} attempt ${st.attempts} failed: ${failure.message}${retryable ? `; retrying in ${formatDuration(delays[st.attempts - 1]!)}` : ''}`,
        {
          actor: st.actor,
          data: { runbook: run.runbook, step: step.id, attempt: st.attempts, type: failure.type },
        },
      );
      if (!retryable) {
        st.status = 'failed';
        return 'failed';
      }
      st.status = 'retry_wait';
      st.nextAttemptAt = now() + delays[st.attempts - 1]!;
      touch(rt);
    }
  }
}

function approvedBy(run: RunbookRunState): string | undefined {
  const approvals = Object.values(run.steps)
    .map((s) => s.approval)
    .filter((a) => a?.status === 'approved');
  const names = approvals.flatMap((a) =>
    a!.decisions
      .filter((d) => d.decision === 'approve')
      .map((d) => a!.allowed.find((p) => p.personId === d.personId)?.name ?? d.personId),
  );
  return names.length > 0 ? `approved by ${[...new Set(names)].join(', ')}` : undefined;
}

function describeData(st: StepState): string {
  const keys = Object.entries(st.data).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
  if (keys.length === 0) return '';
  return ` (${keys
    .slice(0, 4)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ')})`;
}

async function executeApproval(
  rt: Runtime,
  run: RunbookRunState,
  step: ApprovalStep,
  st: StepState,
): Promise<StepOutcome | typeof CLOSED> {
  if (!st.approval) {
    let prompt: string;
    try {
      prompt = render(run, step.prompt, 'prompt');
    } catch (err) {
      st.error = { type: ErrorType.Rejected, message: (err as Error).message };
      st.status = 'failed';
      return 'timed_out';
    }
    const allowed = await act(rt, () => quick.resolveApprovers({ approvers: step.approvers, atMs: now() }));
    st.approval = {
      stepId: step.id,
      prompt,
      status: 'pending',
      allowed,
      minApprovals: step.min_approvals,
      requestedAt: nowIso(),
      deadlineAt: now() + durationMs(step.timeout),
      decisions: [],
      refusals: [],
    };
    st.status = 'awaiting_approval';
    const names = allowed.map((a) => `${a.name} (${a.via})`).join(' or ');
    note(
      rt,
      'approval_requested',
      allowed.length > 0
        ? `Approval needed from ${names} within ${step.timeout} for step ${step.id}: ${prompt}`
        : `Approval needed for step ${step.id} but nobody qualifies as an approver right now`,
      { actor: 'automation', data: { step: step.id, runbook: run.runbook } },
    );
    if (step.channels.includes('pagerduty') && rt.features.pagerduty)
      await announceOnPagerDuty(rt, step, prompt);
    if (allowed.length === 0) {
      st.approval.status = 'timed_out';
      st.status = 'timed_out';
      return 'timed_out';
    }
  }
  const approval = st.approval;
  const names = approval.allowed.map((a) => a.name).join(' or ');
  const remaining = Math.max(1, approval.deadlineAt - now());
  const decided = await condition(() => isClosed(rt) || approval.status !== 'pending', remaining, {
    summary: `awaiting approval of ${step.id} from ${names} (${formatDuration(remaining)} left)`,
  });
  if (isClosed(rt)) {
    approval.status = 'cancelled';
    return CLOSED;
  }
  if (!decided) {
    approval.status = 'timed_out';
    approval.decidedAt = nowIso();
    st.status = 'timed_out';
    note(rt, 'approval_timed_out', `Nobody approved ${step.id} within ${step.timeout}: ${step.on_timeout}`, {
      data: { step: step.id, on_timeout: step.on_timeout },
    });
    return 'timed_out';
  }
  if (approval.status === 'approved') {
    st.status = 'succeeded';
    st.actor = approvedBy(run);
    return 'succeeded';
  }
  st.status = 'rejected';
  return 'rejected';
}

async function announceOnPagerDuty(rt: Runtime, step: ApprovalStep, prompt: string): Promise<void> {
  for (const approver of step.approvers) {
    const target = approver.role !== undefined ? { role: approver.role } : { person: approver.person! };
    await act(rt, () =>
      quick.pageTarget({
        pageKey: `${rt.state.incidentId}/${rt.state.openedAt}/approval/${step.id}/${approver.role ?? approver.person}/pagerduty`,
        incidentId: rt.state.incidentId,
        ...(rt.state.number ? { incidentNumber: rt.state.number } : {}),
        level: 0,
        levelName: `approval ${step.id}`,
        target,
        channel: 'pagerduty',
        atMs: now(),
        severity: rt.state.severity,
        title: `Approval needed: ${prompt}`,
        service: rt.state.service,
        links: {},
      }),
    ).catch((err: unknown) =>
      note(rt, 'notification_failed', `PagerDuty approval request failed: ${failureMessage(err).message}`),
    );
  }
}

/** Runs `call` in a scope that is cancelled when the incident resolves (long waits must not outlive it). */
async function untilClosed<T>(rt: Runtime, call: () => Promise<T>): Promise<T | typeof CLOSED> {
  const scope = new CancellationScope();
  void condition(() => isClosed(rt)).then(() => scope.cancel());
  try {
    return await scope.run(call);
  } catch (err) {
    if (isCancellation(err) && isClosed(rt)) return CLOSED;
    throw err;
  }
}

async function executeCheck(
  rt: Runtime,
  run: RunbookRunState,
  step: CheckStep,
  st: StepState,
): Promise<StepOutcome | typeof CLOSED> {
  st.status = 'running';
  st.deadlineAt ??= now() + durationMs(step.within);
  const holdForMs = durationMs(step.for);
  const pollIntervalMs = durationMs(step.interval);
  const remaining = Math.max(1_000, st.deadlineAt - now());
  const opts = {
    startToCloseTimeout: remaining + 120_000,
    heartbeatTimeout: Math.max(60_000, pollIntervalMs * 3),
    summary: `check ${step.id}${holdForMs > 0 ? ` holds for ${step.for}` : ''}`.slice(0, 200),
  };
  note(
    rt,
    'step_started',
    `Check ${step.id}: ${describeCheck(run, step)}${holdForMs > 0 ? ` must hold for ${step.for}` : ''} within ${step.within}`,
    {
      data: { runbook: run.runbook, step: step.id },
    },
  );
  try {
    const result = await untilClosed(rt, () =>
      act(rt, async () => {
        if (step.check.promql !== undefined) {
          const expr = render(run, step.check.promql, 'check.promql');
          const r = await quick.prometheusAwaitCheck.executeWithOptions(opts, [
            { expr, holdForMs, deadlineAtMs: st.deadlineAt!, pollIntervalMs },
          ]);
          return r.held ? { held: true as const } : { held: false as const, reason: r.reason };
        }
        const a = step.check.airflow!;
        const r = await quick.airflowAwaitState.executeWithOptions(opts, [
          {
            dagId: render(run, a.dag_id, 'check.airflow.dag_id'),
            ...(a.task_id ? { taskId: render(run, a.task_id, 'check.airflow.task_id') } : {}),
            ...(a.dag_run_id
              ? { dagRunId: render(run, a.dag_run_id, 'check.airflow.dag_run_id') }
              : latestRunOf(run)),
            state: a.state,
            holdForMs,
            deadlineMs: remaining,
            pollIntervalMs,
          },
        ]);
        return r.held ? { held: true as const } : { held: false as const, reason: r.reason };
      }),
    );
    if (result === CLOSED) return CLOSED;
    if (result.held) {
      st.status = 'succeeded';
      note(rt, 'step_succeeded', `Check ${step.id} held${holdForMs > 0 ? ` for ${step.for}` : ''}`, {
        data: { runbook: run.runbook, step: step.id },
      });
      return 'succeeded';
    }
    st.status = 'failed';
    st.error = { type: ErrorType.TimedOut, message: result.reason };
  } catch (err) {
    if (isCancellation(err) && isClosed(rt)) return CLOSED;
    st.status = 'failed';
    st.error =
      err instanceof StepInputError
        ? { type: ErrorType.Rejected, message: err.message }
        : failureMessage(err);
  }
  note(rt, 'step_failed', `Check ${step.id} did not hold: ${st.error.message}`, {
    data: { runbook: run.runbook, step: step.id },
  });
  return 'failed';
}

/** The DAG run an earlier clear/trigger step of this run acted on, so a check watches the same run. */
function latestRunOf(run: RunbookRunState): { dagRunId?: string } {
  const ids = Object.values(run.steps)
    .map((s) => s.data.dagRunId)
    .filter((v): v is string => typeof v === 'string');
  const last = ids[ids.length - 1];
  return last ? { dagRunId: last } : {};
}

function describeCheck(run: RunbookRunState, step: CheckStep): string {
  if (step.check.promql !== undefined)
    return `PromQL \`${renderTemplate(step.check.promql, run.variables) ?? step.check.promql}\``;
  const a = step.check.airflow!;
  const dag = renderTemplate(a.dag_id, run.variables) ?? a.dag_id;
  const task = a.task_id ? `.${renderTemplate(a.task_id, run.variables) ?? a.task_id}` : '';
  return `Airflow ${dag}${task} is ${a.state}`;
}

async function executeNotify(
  rt: Runtime,
  run: RunbookRunState,
  step: NotifyStep,
  st: StepState,
): Promise<StepOutcome> {
  st.status = 'running';
  let message: string;
  try {
    message = render(run, step.message, 'message');
  } catch (err) {
    st.status = 'failed';
    st.error = { type: ErrorType.Rejected, message: (err as Error).message };
    return 'failed';
  }
  note(rt, 'note', message, {
    actor: 'automation',
    data: { runbook: run.runbook, step: step.id, notify: true },
  });
  const slack = rt.state.slack;
  if (!rt.features.slack || !slack || slack.disabled) {
    st.status = 'succeeded';
    st.data.delivered = 'timeline only (Slack not configured)';
    return 'succeeded';
  }
  try {
    let mentions = '';
    if (step.mention.length > 0) {
      const people = await act(rt, () => quick.resolveApprovers({ approvers: step.mention, atMs: now() }));
      mentions = people.map((p) => (p.slackUserId ? `<@${p.slackUserId}>` : p.name)).join(' ');
    }
    const text = mentions ? `${mentions} ${message}` : message;
    // Keyed per step execution: a retry after a lost response finds the message instead of posting again.
    const idempotencyKey = `${rt.state.incidentId}/${rt.state.openedAt}/${run.runId}/${step.id}#${run.executions}`;
    const firstTriedAt = now();
    const ref = await act(rt, () =>
      quick.notifySlack({
        channel: slack.channel,
        ...(slack.ts ? { threadTs: slack.ts } : {}),
        text,
        idempotencyKey,
        firstTriedAt,
      }),
    );
    st.data.slackTs = ref.ts;
    st.status = 'succeeded';
    return 'succeeded';
  } catch (err) {
    st.status = 'failed';
    st.error = failureMessage(err);
    note(rt, 'notification_failed', `Slack notification of step ${step.id} failed: ${st.error.message}`);
    return 'failed';
  }
}

async function executeWait(rt: Runtime, step: WaitStep, st: StepState): Promise<StepOutcome | typeof CLOSED> {
  st.status = 'running';
  st.deadlineAt ??= now() + durationMs(step.duration);
  const remaining = st.deadlineAt - now();
  if (remaining > 0) {
    await condition(() => isClosed(rt), remaining, { summary: `wait ${step.id} (${step.duration})` });
    if (isClosed(rt)) return CLOSED;
  }
  st.status = 'succeeded';
  return 'succeeded';
}

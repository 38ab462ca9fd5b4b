import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { boundAlert } from '../../domain/alert-bounds';
import { boundedId } from '../../domain/text-bounds';
import { applyDecision, findApprover, refusalMessage } from '../../domain/approval';
import { describeTarget } from '../../domain/escalation-policy';
import { applyAlerts, record, type RoutedAlert } from '../../domain/incident';
import { incidentCurrentDetails } from '../../domain/incident-text';
import { type IncidentState, type Resolution, toView } from '../../domain/incident-view';
import {
  acknowledgeSignal,
  actionOutcomeQuery,
  type ActorSignal,
  alertSignal,
  approveSignal,
  commentSignal,
  escalateSignal,
  type IncidentInput,
  type IncidentOutcome,
  incidentQuery,
  investigateSignal,
  resolveSignal,
  resumeAutomationSignal,
  runRunbookSignal,
} from '../definitions';
import { EscalationLevelKey, IncidentSeverityKey, IncidentStatusKey } from '../search-attributes';
import { runChatOps } from './chatops';
import { runEscalation } from './escalation';
import { finishLearning, runLearn } from './learn';
import { runReconcile } from './reconcile';
import { duplicateRunbookRequest, runRunbooks } from './runbook';
import { runMetrics } from './metric-events';
import { keepInBudget, runStateBudget, SIZE_PATCH } from './state-budget';
import {
  createRuntime,
  emit,
  intakeOptions as intakeAlertOptions,
  isClosed,
  note,
  numberTimeline,
  nowIso,
  progress,
  remember,
  type Runtime,
  touch,
} from './runtime';

const PROCESSED_REQUESTS_CAPACITY = 500;

/**
 * Behaviour added after v1 histories were recorded: escalation, runbooks, ChatOps and learning. Runs
 * that started before it replay exactly as v1 (intake and auto-resolution only).
 */
const PARTS_PATCH = 'incident-parts-v2';
const RUNBOOK_REQUEST_PATCH = 'runbook-request-dedup';
const NUMBER_EVERY_ENTRY_PATCH = 'timeline-number-every-entry';

function initialState(input: IncidentInput): IncidentState {
  const openedAt = nowIso();
  const state: IncidentState = {
    incidentId: input.incidentId,
    dedupKey: input.dedupKey,
    service: input.service,
    incidentType: input.incidentType,
    title: input.title,
    severity: input.severity,
    status: 'triggered',
    openedAt,
    routing: input.routing,
    alerts: {},
    seen: [],
    counters: { deliveries: 0, duplicates: 0, untrackedAlerts: 0, timelineDropped: 0 },
    timeline: [],
    processedRequests: [],
    runs: 1,
  };
  record(state, openedAt, 'opened', `Incident opened: ${input.title}`, {
    actor: 'system',
    data: { severity: input.severity, type: input.incidentType, service: input.service },
  });
  return state;
}

/**
 * One incident, from its first alert to its postmortem. Alerts join through the `alert` signal
 * (signal-with-start from the ingress); people act through `acknowledge`, `approve`, `resolve`,
 * `escalate`, `comment`, `investigate`, `resumeAutomation` and `runRunbook`; the `incident` query returns
 * the full view. Concurrent parts: alert intake and auto-resolution (here), escalation, the runbook,
 * ChatOps, learning and Alertmanager reconciliation. Continues as new when its history grows, carrying
 * the whole state; side effects in flight finish first.
 */
export async function incidentWorkflow(input: IncidentInput): Promise<IncidentOutcome> {
  const state: IncidentState = input.carried ?? initialState(input);
  const rt = createRuntime(input, state);
  // Before any handler runs: the `alert` signal that started this run is capped too.
  rt.sizeBounds = patched(SIZE_PATCH);
  rt.numberEveryEntry = patched(NUMBER_EVERY_ENTRY_PATCH);
  const { limits } = rt;
  /** Alerts as this run keeps them: capped in size (a signal sent straight to Temporal skips the API's caps). */
  const intake = (alerts: readonly RoutedAlert[]): RoutedAlert[] =>
    rt.sizeBounds ? alerts.map((a) => boundAlert(a)) : [...alerts];
  const intakeOptions = intakeAlertOptions(rt);
  /** Firing alerts that arrived after resolution: they open the next incident run. */
  const lateAlerts: RoutedAlert[] = [];

  /** Applies a person's action once per request id; returns false for a repeat. */
  const firstTime = (signal: Partial<ActorSignal>): boolean => {
    rt.signalsThisRun += 1;
    if (!signal.requestId) return true;
    // A long request id is remembered as a short hash of itself (the same id always maps to the same one).
    const id = rt.sizeBounds ? boundedId(signal.requestId, rt.bounds.requestIdBytes) : signal.requestId;
    if (state.processedRequests.includes(id)) return false;
    state.processedRequests.push(id);
    if (state.processedRequests.length > PROCESSED_REQUESTS_CAPACITY) state.processedRequests.shift();
    return true;
  };

  /** The person a signal names (Slack users map to people through the approver and on-call lists). */
  const personName = (user: string, name?: string): string => {
    if (name) return name;
    const approvers = state.runbook
      ? Object.values(state.runbook.steps).flatMap((s) => s.approval?.allowed ?? [])
      : [];
    return findApprover(approvers, user)?.name ?? user;
  };

  setHandler(alertSignal, ({ alerts: received }) => {
    rt.signalsThisRun += 1;
    const alerts = intake(received);
    if (isClosed(rt)) {
      lateAlerts.push(...alerts.filter((a) => a.status === 'firing'));
      if (rt.sizeBounds && lateAlerts.length > limits.maxAlerts)
        lateAlerts.splice(0, lateAlerts.length - limits.maxAlerts);
      return;
    }
    const before = state.severity;
    applyAlerts(state, alerts, nowIso(), limits, intakeOptions);
    if (rt.sizeBounds) rt.uncheckedBytes += JSON.stringify(alerts).length;
    touch(rt, state.severity !== before);
  });

  setHandler(acknowledgeSignal, (signal) => {
    if (!firstTime(signal)) return;
    const who = personName(signal.user, signal.name);
    if (isClosed(rt)) {
      note(rt, 'note', `Acknowledge from ${who} ignored: incident already ${state.status}`, { actor: who });
      remember(rt, signal.requestId, false, `incident is already ${state.status}`);
      return;
    }
    if (state.acknowledgedAt) {
      note(rt, 'note', `${who} acknowledged again (first: ${state.acknowledgedBy})`, { actor: who });
      remember(rt, signal.requestId, true, `already acknowledged by ${state.acknowledgedBy}`);
      return;
    }
    state.acknowledgedAt = nowIso();
    state.acknowledgedBy = who;
    if (state.status === 'triggered') state.status = 'investigating';
    emit(rt, {
      kind: 'acknowledged',
      incidentType: state.incidentType,
      severity: state.severity,
      ttaSeconds: Math.max(0, (Date.parse(state.acknowledgedAt) - Date.parse(state.openedAt)) / 1000),
    });
    note(rt, 'acknowledged', `Acknowledged by ${who}${signal.comment ? `: ${signal.comment}` : ''}`, {
      actor: who,
      data: { via: signal.via ?? null },
    });
    progress(rt);
    remember(rt, signal.requestId, true, `acknowledged by ${who}; paging stopped`);
  });

  setHandler(resolveSignal, (signal) => {
    if (!firstTime(signal)) return;
    if (isClosed(rt)) {
      remember(rt, signal.requestId, false, `incident is already ${state.status}`);
      return;
    }
    resolve({
      reason: 'manual',
      by: personName(signal.user, signal.name),
      ...(signal.note ? { note: signal.note } : {}),
    });
    remember(rt, signal.requestId, true, `resolved by ${personName(signal.user, signal.name)}`);
  });

  setHandler(escalateSignal, (signal) => {
    if (!firstTime(signal)) return;
    const who = signal.user ? personName(signal.user, signal.name) : undefined;
    if (isClosed(rt) || !input.policy) {
      const why = isClosed(rt) ? `incident is already ${state.status}` : 'no escalation policy is active';
      note(rt, 'note', `Escalation requested${who ? ` by ${who}` : ''}: ${why}`, {
        ...(who ? { actor: who } : {}),
      });
      remember(rt, signal.requestId, false, why);
      return;
    }
    rt.escalationRequests.push({
      ...(signal.level !== undefined ? { level: signal.level } : {}),
      reason: signal.reason ?? `requested${who ? ` by ${who}` : ''}`,
      ...(who ? { by: who } : {}),
    });
    touch(rt, true);
    remember(rt, signal.requestId, true, 'escalation requested');
  });

  setHandler(approveSignal, (signal) => {
    if (!firstTime(signal)) return;
    const at = nowIso();
    const step = state.runbook?.steps[signal.stepId];
    const approval = step?.approval;
    if (isClosed(rt) || !approval) {
      const reason = isClosed(rt) ? 'incident_closed' : 'unknown_step';
      const message = refusalMessage(personName(signal.user, signal.name), reason);
      note(
        rt,
        'approval_refused',
        `Approval from ${personName(signal.user, signal.name)} for ${signal.stepId} refused: ${message}`,
        {
          actor: personName(signal.user, signal.name),
          data: { stepId: signal.stepId, decision: signal.decision, reason },
        },
      );
      remember(rt, signal.requestId, false, message);
      return;
    }
    const outcome = applyDecision(approval, signal, at);
    const runbookName = state.runbook?.runbook ?? 'unknown';
    if (outcome.kind === 'refused') emit(rt, { kind: 'approval', runbook: runbookName, decision: 'refused' });
    if (outcome.kind === 'recorded')
      emit(rt, { kind: 'approval', runbook: runbookName, decision: signal.decision });
    if (outcome.kind === 'refused') {
      note(
        rt,
        'approval_refused',
        `Approval from ${personName(signal.user, signal.name)} for ${signal.stepId} refused: ${outcome.message}`,
        {
          actor: personName(signal.user, signal.name),
          data: { stepId: signal.stepId, decision: signal.decision, reason: outcome.reason },
        },
      );
      remember(rt, signal.requestId, false, outcome.message);
      return;
    }
    if (outcome.kind === 'repeat') {
      remember(rt, signal.requestId, true, outcome.message);
      return;
    }
    note(
      rt,
      'approval_recorded',
      `${outcome.approver.name} ${signal.decision === 'approve' ? 'approved' : 'rejected'} ${signal.stepId}${signal.comment ? `: ${signal.comment}` : ''}`,
      {
        actor: outcome.approver.name,
        data: {
          stepId: signal.stepId,
          decision: signal.decision,
          via: signal.via ?? null,
          status: outcome.status,
        },
      },
    );
    progress(rt);
    remember(rt, signal.requestId, true, outcome.message);
  });

  setHandler(commentSignal, (signal) => {
    if (!firstTime(signal)) return;
    const who = personName(signal.user, signal.name);
    note(rt, 'comment', `${who}: ${signal.text}`, { actor: who });
    progress(rt);
    remember(rt, signal.requestId, true, 'comment added');
  });

  setHandler(investigateSignal, (signal) => {
    if (!firstTime(signal)) return;
    const who = personName(signal.user, signal.name);
    if (isClosed(rt)) {
      remember(rt, signal.requestId, false, `incident is already ${state.status}`);
      return;
    }
    state.investigator = who;
    state.automationPaused = true;
    state.acknowledgedAt ??= nowIso();
    state.acknowledgedBy ??= who;
    note(rt, 'automation_paused', `${who} is investigating manually: automation paused`, { actor: who });
    progress(rt);
    remember(rt, signal.requestId, true, `${who} assigned; automation paused`);
  });

  setHandler(resumeAutomationSignal, (signal) => {
    if (!firstTime(signal)) return;
    const who = personName(signal.user, signal.name);
    if (!state.automationPaused) {
      remember(rt, signal.requestId, false, 'automation is not paused');
      return;
    }
    state.automationPaused = false;
    note(rt, 'note', `${who} resumed automation`, { actor: who });
    progress(rt);
    remember(rt, signal.requestId, true, 'automation resumed');
  });

  setHandler(runRunbookSignal, (signal) => {
    if (!firstTime(signal)) return;
    const who = personName(signal.user, signal.name);
    const duplicate = patched(RUNBOOK_REQUEST_PATCH) ? duplicateRunbookRequest(rt, signal.runbook) : null;
    if (duplicate) {
      note(rt, 'note', `Runbook ${signal.runbook} not started: ${duplicate}`, { actor: who });
      remember(rt, signal.requestId, false, duplicate);
      return;
    }
    rt.runbookRequests.push({
      runbook: signal.runbook,
      by: who,
      ...(signal.requestId ? { requestId: signal.requestId } : {}),
    });
    touch(rt);
  });

  setHandler(incidentQuery, () => toView(state, links(), rt.nextEscalation));
  setHandler(actionOutcomeQuery, (requestId) => rt.outcomes.find((o) => o.requestId === requestId) ?? null);

  function links(): { temporalUi?: string; grafana?: string } {
    const base = input.settings.temporalUiUrl;
    const ns = encodeURIComponent(input.settings.namespace ?? workflowInfo().namespace);
    return {
      ...(base
        ? { temporalUi: `${base}/namespaces/${ns}/workflows/${encodeURIComponent(state.incidentId)}` }
        : {}),
      ...(input.settings.grafanaUrl ? { grafana: input.settings.grafanaUrl } : {}),
    };
  }

  function resolve(resolution: Resolution): void {
    const at = nowIso();
    state.status = 'resolved';
    state.resolvedAt = at;
    state.resolution = resolution;
    const who = resolution.by ? ` by ${resolution.by}` : '';
    const why =
      resolution.reason === 'auto'
        ? 'all alerts resolved and stayed resolved'
        : resolution.reason === 'reconciled'
          ? 'its alerts are no longer active in Alertmanager'
          : (resolution.note ?? 'manual');
    note(rt, 'resolved', `Resolved${who}: ${why}`, { actor: resolution.by ?? 'system' });
    emit(rt, {
      kind: 'resolved',
      incidentType: state.incidentType,
      severity: state.severity,
      service: state.service,
      resolution: resolution.reason,
      ttrSeconds: Math.max(0, (Date.parse(at) - Date.parse(state.openedAt)) / 1000),
      highestLevel: state.escalation?.highestLevel ?? 0,
    });
    touch(rt, true);
  }

  // Web UI: search attributes change only on state changes; current details on any change.
  let published = { status: '', severity: '', level: -1, details: '' };
  function publish(): void {
    const level = state.escalation?.highestLevel ?? 0;
    if (
      published.status !== state.status ||
      published.severity !== state.severity ||
      published.level !== level
    ) {
      upsertSearchAttributes([
        { key: IncidentStatusKey, value: state.status },
        { key: IncidentSeverityKey, value: state.severity },
        { key: EscalationLevelKey, value: level },
      ]);
    }
    const details = incidentCurrentDetails(state, currentSections());
    if (details !== published.details) setCurrentDetails(details);
    published = { status: state.status, severity: state.severity, level, details };
  }

  function currentSections(): string[] {
    const out: string[] = [];
    const policy = input.policy;
    const esc = state.escalation;
    if (policy && esc) {
      out.push(
        '',
        `**Escalation** (${policy.name}): level ${esc.level} of ${policy.levels.length}${state.acknowledgedBy ? ', paused by acknowledgement' : ''}`,
      );
      policy.levels.forEach((l, i) => {
        const at = esc.pagedAt[String(i + 1)];
        out.push(
          `- L${i + 1} ${l.name}: ${l.channels.join('+')} to ${l.targets.map(describeTarget).join(', ')}${at ? ` — paged ${new Date(at).toISOString().slice(11, 19)}` : ''}`,
        );
      });
      if (rt.nextEscalation) out.push(`- next: ${rt.nextEscalation.summary}`);
      const recent = esc.pages.slice(-5);
      if (recent.length > 0)
        out.push(
          `- paged: ${recent.map((p) => `${p.at.slice(11, 19)} L${p.level} ${p.channel} ${p.status} ${p.recipients.join(' ')}`).join('; ')}`,
        );
    }
    const run = state.runbook;
    if (run) {
      out.push('', `**Runbook** ${run.runbook} (${run.status}, started by ${run.startedBy})`);
      for (const st of Object.values(run.steps)) {
        if (st.status === 'pending') continue;
        const pending =
          st.approval?.status === 'pending'
            ? ` — awaiting ${st.approval.allowed.map((a) => a.name).join(' or ')}`
            : '';
        out.push(
          `- ${st.id}: ${st.status}${st.attempts > 1 ? ` (${st.attempts} attempts)` : ''}${pending}${st.error ? ` — ${st.error.message}` : ''}`,
        );
      }
    }
    const top = state.diagnosis?.[0];
    if (top)
      out.push('', `**Diagnosis**: ${top.cause} (${Math.round(top.confidence * 100)}%) — ${top.basis}`);
    if (state.investigator) out.push('', `Investigating manually: ${state.investigator} (automation paused)`);
    return out;
  }

  if (input.pendingAlerts && input.pendingAlerts.length > 0) {
    if (!input.carried)
      note(rt, 'reopened', 'The problem came back after the previous incident was resolved');
    applyAlerts(state, intake(input.pendingAlerts), nowIso(), limits, intakeOptions);
    numberTimeline(rt);
  }

  const shouldContinueAsNew = (): boolean => {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested ||
      info.historyLength > input.settings.maxHistoryEvents ||
      rt.signalsThisRun >= input.settings.maxSignalsPerRun ||
      (rt.sizeBounds && rt.continueForSize)
    );
  };

  const withParts = patched(PARTS_PATCH);
  const parts: Promise<void>[] = [];
  rt.metricsEnabled = withParts;
  if (withParts && !input.carried) {
    emit(rt, {
      kind: 'opened',
      incidentType: state.incidentType,
      severity: state.severity,
      service: state.service,
    });
  }
  if (withParts) {
    let diagnosed = state.learn?.diagnoses !== undefined;
    parts.push(
      runLearn(rt, () => {
        diagnosed = true;
        touch(rt);
      }),
    );
    parts.push(runEscalation(rt));
    parts.push(runChatOps(rt));
    parts.push(runReconcile(rt));
    parts.push(runMetrics(rt));
    if (rt.sizeBounds) parts.push(runStateBudget(rt));
    parts.push(
      (async () => {
        // Choose the first runbook once the diagnosis had its say.
        await condition(() => diagnosed || isClosed(rt));
        if (!input.carried && !state.runbook) autoStartRunbook(rt);
        await runRunbooks(rt);
      })(),
    );
  }

  /** Runbooks run while alerts resolve: an incident does not auto-resolve under a running runbook. */
  const runbookActive = (): boolean => state.runbook?.status === 'running' && state.automationPaused !== true;

  const graceMs = input.settings.autoResolveGraceMs;
  while (!isClosed(rt)) {
    publish();
    if (shouldContinueAsNew()) {
      // The carried state must fit in one payload: trim it (archiving what leaves) before draining.
      if (rt.sizeBounds) await keepInBudget(rt);
      rt.draining = true;
      await condition(() => rt.inFlight === 0 && allHandlersFinished());
      state.runs += 1;
      await continueAsNew<typeof incidentWorkflow>({ ...input, carried: state, pendingAlerts: [] });
    }
    const since = state.allResolvedSince;
    const version = rt.version;
    if (since === undefined || (withParts && runbookActive())) {
      await condition(() => isClosed(rt) || rt.version !== version || shouldContinueAsNew());
      continue;
    }
    const remaining = Math.max(1, Date.parse(since) + graceMs - Date.now());
    const interrupted = await condition(
      () =>
        isClosed(rt) ||
        state.allResolvedSince !== since ||
        shouldContinueAsNew() ||
        (withParts && runbookActive()),
      remaining,
      { summary: `auto-resolve in ${Math.ceil(remaining / 1000)}s unless an alert fires again` },
    );
    if (!interrupted) resolve({ reason: 'auto' });
  }
  publish();

  if (withParts) {
    await finishLearning(rt);
    rt.finished = true;
    touch(rt);
    await Promise.all(parts);
    publish();
  }

  await condition(allHandlersFinished);
  if (lateAlerts.length > 0) {
    // A problem came back after resolution: the same dedup key opens a fresh incident run.
    await continueAsNew<typeof incidentWorkflow>({ ...input, carried: undefined, pendingAlerts: lateAlerts });
  }
  return {
    incidentId: state.incidentId,
    ...(state.number ? { number: state.number } : {}),
    status: state.status === 'closed' ? 'closed' : 'resolved',
    resolvedAt: state.resolvedAt ?? nowIso(),
    resolution: state.resolution?.reason ?? 'manual',
    ...(state.resolution?.by ? { resolvedBy: state.resolution.by } : {}),
  };
}

/** Starts the runbook the diagnosis or routing chose, if it may start without a person. */
function autoStartRunbook(rt: Runtime): void {
  const runbooks = rt.input.runbooks ?? {};
  const top = rt.state.diagnosis?.[0];
  const gated = (name: string): boolean => runbooks[name]?.steps[0]?.type === 'approval';
  // A confident diagnosis may start its runbook when the runbook starts with a human gate or is auto-start.
  if (top?.suggestedRunbook && top.confidence >= 0.5 && runbooks[top.suggestedRunbook]) {
    const name = top.suggestedRunbook;
    if (runbooks[name]!.auto_start || gated(name)) {
      rt.runbookRequests.push({ runbook: name, by: 'diagnosis' });
      return;
    }
  }
  const routed = rt.state.routing.runbook;
  if (routed && runbooks[routed]?.auto_start) rt.runbookRequests.push({ runbook: routed, by: 'automation' });
}

import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { applyAlerts, DEFAULT_INTAKE_LIMITS, isClosedStatus, record } from '../../domain/incident';
import { incidentCurrentDetails } from '../../domain/incident-text';
import { type IncidentState, toView } from '../../domain/incident-view';
import {
  acknowledgeSignal,
  alertSignal,
  approveSignal,
  escalateSignal,
  type IncidentInput,
  type IncidentOutcome,
  incidentQuery,
  resolveSignal,
  type ActorSignal,
} from '../definitions';
import { EscalationLevelKey, IncidentSeverityKey, IncidentStatusKey } from '../search-attributes';
import type { RoutedAlert } from '../../domain/incident';

const PROCESSED_REQUESTS_CAPACITY = 500;

function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

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
 * One incident, from its first alert to resolution. Alerts join through the `alert` signal
 * (signal-with-start from the ingress); people act through `acknowledge`, `approve`, `resolve` and
 * `escalate`; the `incident` query returns the full view. Continues as new when its history grows,
 * carrying the whole state.
 */
export async function incidentWorkflow(input: IncidentInput): Promise<IncidentOutcome> {
  const state: IncidentState = input.carried ?? initialState(input);
  const limits = input.settings.limits ?? DEFAULT_INTAKE_LIMITS;
  let signalsThisRun = 0;
  /** Firing alerts that arrived after resolution: they open the next incident run. */
  const lateAlerts: RoutedAlert[] = [];

  const isClosed = (): boolean => isClosedStatus(state.status);

  /** Applies a person's action once per request id; returns false for a repeat. */
  const firstTime = (signal: Partial<ActorSignal>): boolean => {
    if (!signal.requestId) return true;
    if (state.processedRequests.includes(signal.requestId)) return false;
    state.processedRequests.push(signal.requestId);
    if (state.processedRequests.length > PROCESSED_REQUESTS_CAPACITY) state.processedRequests.shift();
    return true;
  };

  setHandler(alertSignal, ({ alerts }) => {
    signalsThisRun += 1;
    if (isClosed()) {
      lateAlerts.push(...alerts.filter((a) => a.status === 'firing'));
      return;
    }
    applyAlerts(state, alerts, nowIso(), limits);
  });

  setHandler(acknowledgeSignal, (signal) => {
    signalsThisRun += 1;
    if (!firstTime(signal)) return;
    const at = nowIso();
    if (isClosed()) {
      record(state, at, 'note', `Acknowledge from ${signal.user} ignored: incident already ${state.status}`, {
        actor: signal.user,
      });
      return;
    }
    if (state.acknowledgedAt) {
      record(state, at, 'note', `${signal.user} acknowledged again (first: ${state.acknowledgedBy})`, {
        actor: signal.user,
      });
      return;
    }
    state.acknowledgedAt = at;
    state.acknowledgedBy = signal.user;
    if (state.status === 'triggered') state.status = 'investigating';
    record(
      state,
      at,
      'acknowledged',
      `Acknowledged by ${signal.user}${signal.comment ? `: ${signal.comment}` : ''}`,
      {
        actor: signal.user,
        data: { via: signal.via ?? null },
      },
    );
  });

  setHandler(resolveSignal, (signal) => {
    signalsThisRun += 1;
    if (!firstTime(signal)) return;
    if (isClosed()) return;
    resolve({ reason: 'manual', by: signal.user, ...(signal.note ? { note: signal.note } : {}) });
  });

  setHandler(escalateSignal, (signal) => {
    signalsThisRun += 1;
    if (!firstTime(signal)) return;
    record(
      state,
      nowIso(),
      'note',
      `Escalation requested${signal.user ? ` by ${signal.user}` : ''}: no escalation policy is active`,
      {
        ...(signal.user ? { actor: signal.user } : {}),
      },
    );
  });

  setHandler(approveSignal, (signal) => {
    signalsThisRun += 1;
    if (!firstTime(signal)) return;
    record(
      state,
      nowIso(),
      'approval_refused',
      `Approval from ${signal.user} for step ${signal.stepId} refused: no step is awaiting approval`,
      {
        actor: signal.user,
        data: { stepId: signal.stepId, decision: signal.decision },
      },
    );
  });

  setHandler(incidentQuery, () => toView(state, links()));

  function links(): { temporalUi?: string } {
    const base = input.settings.temporalUiUrl;
    if (!base) return {};
    const ns = encodeURIComponent(input.settings.namespace ?? workflowInfo().namespace);
    return { temporalUi: `${base}/namespaces/${ns}/workflows/${encodeURIComponent(state.incidentId)}` };
  }

  function resolve(resolution: NonNullable<IncidentState['resolution']>): void {
    const at = nowIso();
    state.status = 'resolved';
    state.resolvedAt = at;
    state.resolution = resolution;
    const who = resolution.by ? ` by ${resolution.by}` : '';
    const why =
      resolution.reason === 'auto'
        ? 'all alerts resolved and stayed resolved'
        : (resolution.note ?? 'manual');
    record(state, at, 'resolved', `Resolved${who}: ${why}`, { actor: resolution.by ?? 'system' });
  }

  // Web UI: search attributes change only on state changes; current details on any change.
  let published = { status: '', severity: '', level: -1, details: '' };
  function publish(): void {
    const level = 0;
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
    const details = incidentCurrentDetails(state);
    if (details !== published.details) setCurrentDetails(details);
    published = { status: state.status, severity: state.severity, level, details };
  }

  if (input.pendingAlerts && input.pendingAlerts.length > 0) {
    applyAlerts(state, input.pendingAlerts, nowIso(), limits);
  }

  const shouldContinueAsNew = (): boolean => {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested ||
      info.historyLength > input.settings.maxHistoryEvents ||
      signalsThisRun >= input.settings.maxSignalsPerRun
    );
  };

  const graceMs = input.settings.autoResolveGraceMs;
  while (!isClosed()) {
    publish();
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      state.runs += 1;
      await continueAsNew<typeof incidentWorkflow>({ ...input, carried: state, pendingAlerts: [] });
    }
    const since = state.allResolvedSince;
    if (since === undefined) {
      await condition(() => isClosed() || state.allResolvedSince !== undefined || shouldContinueAsNew());
      continue;
    }
    const remaining = Math.max(1, Date.parse(since) + graceMs - Date.now());
    const interrupted = await condition(
      () => isClosed() || state.allResolvedSince !== since || shouldContinueAsNew(),
      remaining,
      { summary: `auto-resolve in ${Math.ceil(remaining / 1000)}s unless an alert fires again` },
    );
    if (!interrupted) resolve({ reason: 'auto' });
  }
  publish();

  await condition(allHandlersFinished);
  if (lateAlerts.length > 0) {
    // A problem came back after resolution: the same dedup key opens a fresh incident run.
    await continueAsNew<typeof incidentWorkflow>({ ...input, carried: undefined, pendingAlerts: lateAlerts });
  }
  return {
    incidentId: state.incidentId,
    status: 'resolved',
    resolvedAt: state.resolvedAt ?? nowIso(),
    resolution: state.resolution?.reason ?? 'manual',
    ...(state.resolution?.by ? { resolvedBy: state.resolution.by } : {}),
  };
}

import { condition, log } from '@temporalio/workflow';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits, isClosedStatus, record } from '../../domain/incident';
import type { IncidentState } from '../../domain/incident-view';
import type { IncidentStatus } from '../../domain/incident';
import type { TimelineEntry, TimelineKind } from '../../domain/timeline';
import type { IncidentMetricEvent } from '../../domain/incident-metrics';
import type { ActionOutcome, IncidentFeatures, IncidentInput } from '../definitions';

/**
 * Everything the concurrent parts of one incident run share: the durable state (carried across
 * continue-as-new) and the run-local coordination (not carried).
 */
export interface Runtime {
  input: IncidentInput;
  state: IncidentState;
  limits: IntakeLimits;
  features: IncidentFeatures;
  /** Set before continue-as-new: no new activity starts, so no side effect can be lost between runs. */
  draining: boolean;
  /** Activities in flight. */
  inFlight: number;
  /** Bumped on every change the parts react to (conditions compare it). */
  version: number;
  /** Bumped when the escalation plan may have changed (ack, progress, severity, requests, resolution). */
  escalationVersion: number;
  escalationRequests: Array<{ level?: number; reason: string; by?: string }>;
  runbookRequests: Array<{ runbook: string; by: string; requestId?: string }>;
  /** Outcomes of person actions by request id, for the `actionOutcome` query (bounded). */
  outcomes: ActionOutcome[];
  /** The escalation's next timer, for the Web UI and the query. */
  nextEscalation?: { at: number; summary: string };
  signalsThisRun: number;
  /** Set once the incident resolved and its closing work is done: the parts finish their last sync. */
  finished: boolean;
  /** Engine metric events not yet flushed to the worker's registry (off for v1 runs). */
  metricEvents: IncidentMetricEvent[];
  metricsEnabled: boolean;
}

const OUTCOMES_CAPACITY = 200;

export function createRuntime(input: IncidentInput, state: IncidentState): Runtime {
  return {
    input,
    state,
    limits: input.settings.limits ?? DEFAULT_INTAKE_LIMITS,
    features: input.settings.features ?? {
      slack: false,
      store: false,
      pagerduty: false,
      alertmanager: false,
    },
    draining: false,
    inFlight: 0,
    version: 0,
    escalationVersion: 0,
    escalationRequests: [],
    runbookRequests: [],
    outcomes: [],
    signalsThisRun: 0,
    finished: false,
    metricEvents: [],
    metricsEnabled: false,
  };
}

/** Workflow time (deterministic). */
export function now(): number {
  return Date.now();
}

export function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

export function isClosed(rt: Runtime): boolean {
  return isClosedStatus(rt.state.status);
}

/** Wakes every part waiting on a change. */
export function touch(rt: Runtime, escalation = false): void {
  rt.version += 1;
  if (escalation) rt.escalationVersion += 1;
}

/** Adds a timeline entry (numbered, bounded) and wakes the parts. */
export function note(
  rt: Runtime,
  kind: TimelineKind,
  text: string,
  extra: Partial<Pick<TimelineEntry, 'actor' | 'data'>> = {},
): void {
  const seq = (rt.state.timelineSeq ?? rt.state.timeline.length) + 1;
  rt.state.timelineSeq = seq;
  record(rt.state, nowIso(), kind, text, extra, rt.limits.maxTimeline);
  const last = rt.state.timeline[rt.state.timeline.length - 1];
  if (last) last.seq = seq;
  touch(rt);
}

/** Progress restarts the no-progress clock of the escalation. */
export function progress(rt: Runtime): void {
  rt.state.lastProgressAt = nowIso();
  touch(rt, true);
}

export function setStatus(rt: Runtime, status: IncidentStatus): void {
  if (isClosed(rt) || rt.state.status === status) return;
  rt.state.status = status;
  touch(rt, true);
}

/** Remembers what a person's action did, for the `actionOutcome` query. */
export function remember(rt: Runtime, requestId: string | undefined, ok: boolean, message: string): void {
  if (!requestId) return;
  rt.outcomes.push({ requestId, ok, message });
  if (rt.outcomes.length > OUTCOMES_CAPACITY) rt.outcomes.shift();
}

/**
 * Runs one activity call. Refuses to start while the run drains for continue-as-new (the call then
 * happens in the next run, from the recorded state), and counts calls in flight so the drain can wait
 * for them.
 */
export async function act<T>(rt: Runtime, call: () => Promise<T>): Promise<T> {
  await condition(() => !rt.draining);
  rt.inFlight += 1;
  try {
    return await call();
  } finally {
    rt.inFlight -= 1;
    touch(rt);
  }
}

/** The message of an activity failure, without the SDK's wrapping. */
export function failureMessage(err: unknown): { type: string; message: string } {
  let e = err as { cause?: unknown; message?: string; type?: string } | undefined;
  while (e?.cause && typeof e.cause === 'object') e = e.cause;
  const type = typeof e?.type === 'string' && e.type !== '' ? e.type : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (type === 'Error') log.warn('activity failed', { message });
  return { type, message };
}

/** Queues an engine metric event; the main loop flushes the queue with one local activity. */
export function emit(rt: Runtime, event: IncidentMetricEvent): void {
  if (!rt.metricsEnabled) return;
  rt.metricEvents.push(event);
  if (rt.metricEvents.length > 200) rt.metricEvents.splice(0, rt.metricEvents.length - 200);
  touch(rt);
}

import { condition, log } from '@temporalio/workflow';
import {
  DEFAULT_INTAKE_LIMITS,
  type IntakeLimits,
  type IntakeOptions,
  isClosedStatus,
  record,
} from '../../domain/incident';
import type { IncidentState } from '../../domain/incident-view';
import type { IncidentStatus } from '../../domain/incident';
import type { TimelineEntry, TimelineKind } from '../../domain/timeline';
import type { IncidentMetricEvent } from '../../domain/incident-metrics';
import { type StateBounds, stateBounds } from '../../domain/state-bounds';
import { clipText } from '../../domain/text-bounds';
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
  /** Size caps and the serialized-state budget (enforced only when `sizeBounds` is on). */
  bounds: StateBounds;
  /** Runs that started after the size bounds existed enforce them (older histories replay without). */
  sizeBounds: boolean;
  /** Runs started since alert entries are numbered too (older ones left them unnumbered: see `numberTimeline`). */
  numberEveryEntry: boolean;
  /** Held while entries are being moved out of the state, so two trims never plan the same entries. */
  trimming: boolean;
  /** Set when the state went over budget and was trimmed: continue as new to shed the history too. */
  continueForSize: boolean;
  /** Serialized bytes of alerts taken in since the state size was last checked. */
  uncheckedBytes: number;
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
    bounds: stateBounds(
      input.settings.stateBudgetBytes !== undefined ? { budgetBytes: input.settings.stateBudgetBytes } : {},
    ),
    sizeBounds: false,
    numberEveryEntry: false,
    trimming: false,
    continueForSize: false,
    uncheckedBytes: 0,
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

/**
 * Numbers the entries that alert intake appended without a number (the pure intake code does not know the
 * sequence). Unnumbered entries were never posted to the Slack thread and collided with the next numbered
 * entry in the store, so runs that number every entry do it before anything reads the timeline.
 */
export function numberTimeline(rt: Runtime): void {
  if (!rt.numberEveryEntry) return;
  const timeline = rt.state.timeline;
  let first = timeline.length;
  while (first > 0 && timeline[first - 1]!.seq === undefined) first -= 1;
  if (first === timeline.length) return;
  let seq = rt.state.timelineSeq ?? first;
  for (let i = first; i < timeline.length; i++) timeline[i]!.seq = ++seq;
  rt.state.timelineSeq = seq;
}

/** Wakes every part waiting on a change. */
export function touch(rt: Runtime, escalation = false): void {
  numberTimeline(rt);
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
  numberTimeline(rt);
  const seq = (rt.state.timelineSeq ?? rt.state.timeline.length) + 1;
  rt.state.timelineSeq = seq;
  const bounded = rt.sizeBounds
    ? {
        ...extra,
        ...(extra.actor !== undefined ? { actor: clipText(extra.actor, rt.bounds.timelineActorBytes) } : {}),
      }
    : extra;
  record(
    rt.state,
    nowIso(),
    kind,
    text,
    bounded,
    rt.limits.maxTimeline,
    rt.sizeBounds ? rt.bounds.timelineTextBytes : undefined,
  );
  const last = rt.state.timeline[rt.state.timeline.length - 1];
  if (last) last.seq = seq;
  touch(rt);
}

/** Options of `applyAlerts` for this run: compact dedup keys and clipped texts once the size bounds apply. */
export function intakeOptions(rt: Runtime): IntakeOptions {
  return rt.sizeBounds ? { compactKeys: true, maxTextBytes: rt.bounds.timelineTextBytes } : {};
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

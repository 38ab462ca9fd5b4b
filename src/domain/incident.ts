import { z } from 'zod';
import { type Alert, type AlertTruncation, alertHeadline, deliveryKey } from './alert';
import { isWorse, type Severity } from './severity';
import { boundedId, clipText } from './text-bounds';
import { appendTimeline, type TimelineEntry, type TimelineKind } from './timeline';

/** Incident lifecycle (DESIGN §4). `closed` follows `resolved` once the postmortem is produced. */
export const IncidentStatus = z.enum([
  'triggered',
  'investigating',
  'mitigating',
  'awaiting_approval',
  'monitoring',
  'resolved',
  'closed',
]);
export type IncidentStatus = z.infer<typeof IncidentStatus>;

/** True for the statuses after which the incident no longer acts. */
export function isClosedStatus(status: IncidentStatus): boolean {
  return status === 'resolved' || status === 'closed';
}

/** An alert as an incident remembers it, with the severity its route gave it. */
export interface AlertRecord {
  fingerprint: string;
  name: string;
  source: Alert['source'];
  status: Alert['status'];
  severity: Severity;
  labels: Record<string, string>;
  summary: string;
  startsAt: string;
  endsAt?: string;
  firstSeenAt: string;
  lastSeenAt: string;
  generatorURL?: string;
  /** How many times this alert went from resolved back to firing (flapping). */
  refires: number;
  /** What the size caps cut from the latest delivery of this alert, if anything. */
  truncation?: AlertTruncation;
  /** Set when the state budget forced this record down to its essential labels and a short summary. */
  compacted?: boolean;
}

/** An alert delivered to an incident, with the severity its route decided. */
export interface RoutedAlert extends Alert {
  severity: Severity;
}

/** Limits that keep one incident's state (and so its history payloads) bounded. */
export interface IntakeLimits {
  /** Delivery keys remembered for deduplication (FIFO). */
  dedupCapacity: number;
  /** Distinct alerts tracked individually; further ones are only counted. */
  maxAlerts: number;
  /** Timeline entries kept. */
  maxTimeline: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = { dedupCapacity: 2000, maxAlerts: 500, maxTimeline: 400 };

/** Counters about alert intake, for the incident view and the tuning report. */
export interface IntakeCounters {
  deliveries: number;
  duplicates: number;
  untrackedAlerts: number;
  timelineDropped: number;
  /** Deliveries that arrived with values truncated or entries dropped by the size caps. */
  alertsTruncated?: number;
}

/** The part of incident state owned by alert intake. JSON-plain (carried across continue-as-new). */
export interface IntakeState {
  severity: Severity;
  alerts: Record<string, AlertRecord>;
  /** Delivery keys already applied, oldest first. */
  seen: string[];
  /** Set while every tracked alert is resolved: when that became true (RFC 3339). */
  allResolvedSince?: string;
  counters: IntakeCounters;
  timeline: TimelineEntry[];
}

/** Options of {@link applyAlerts}. */
export interface IntakeOptions {
  /**
   * Remember long delivery keys as a short hash of themselves, so the dedup memory stays small whatever the
   * group keys look like.
   */
  compactKeys?: boolean;
  /** Clip timeline texts to this many bytes (with the truncation marker). */
  maxTextBytes?: number;
}

/** Longest delivery key remembered as is when keys are compacted. */
const MAX_SEEN_KEY_BYTES = 64;

/** What one batch of alerts changed. */
export interface IntakeResult {
  applied: number;
  duplicates: number;
  newlyFiring: string[];
  newlyResolved: string[];
  severityRaisedFrom?: Severity;
}

/** Adds a timeline entry to a state that owns a bounded timeline. */
export function record(
  state: Pick<IntakeState, 'timeline' | 'counters'>,
  at: string,
  kind: TimelineKind,
  text: string,
  extra: Partial<Pick<TimelineEntry, 'actor' | 'data'>> = {},
  limit = DEFAULT_INTAKE_LIMITS.maxTimeline,
  maxTextBytes?: number,
): void {
  const clipped = maxTextBytes === undefined ? text : clipText(text, maxTextBytes);
  const { dropped } = appendTimeline(state.timeline, { at, kind, text: clipped, ...extra }, limit);
  state.counters.timelineDropped += dropped;
}

/**
 * Applies a batch of alerts to an incident (pure apart from mutating `state`). Exact re-deliveries (same
 * group, fingerprint, status and start) are ignored; status is decided per alert; a worse alert raises
 * the incident's severity; `allResolvedSince` tracks when the last firing alert resolved.
 */
export function applyAlerts(
  state: IntakeState,
  alerts: readonly RoutedAlert[],
  now: string,
  limits: IntakeLimits = DEFAULT_INTAKE_LIMITS,
  options: IntakeOptions = {},
): IntakeResult {
  const result: IntakeResult = { applied: 0, duplicates: 0, newlyFiring: [], newlyResolved: [] };
  const seen = new Set(state.seen);
  for (const alert of alerts) {
    state.counters.deliveries += 1;
    if (alert.truncation) state.counters.alertsTruncated = (state.counters.alertsTruncated ?? 0) + 1;
    const key = options.compactKeys ? boundedId(deliveryKey(alert), MAX_SEEN_KEY_BYTES) : deliveryKey(alert);
    if (seen.has(key)) {
      state.counters.duplicates += 1;
      result.duplicates += 1;
      continue;
    }
    seen.add(key);
    state.seen.push(key);
    result.applied += 1;
    applyOne(state, alert, now, limits, result, options.maxTextBytes);
  }
  if (state.seen.length > limits.dedupCapacity)
    state.seen.splice(0, state.seen.length - limits.dedupCapacity);

  const tracked = Object.values(state.alerts);
  const anyFiring = tracked.some((a) => a.status === 'firing');
  if (anyFiring || tracked.length === 0) delete state.allResolvedSince;
  else state.allResolvedSince ??= now;
  return result;
}

function applyOne(
  state: IntakeState,
  alert: RoutedAlert,
  now: string,
  limits: IntakeLimits,
  result: IntakeResult,
  maxTextBytes: number | undefined,
): void {
  const existing = state.alerts[alert.fingerprint];
  const summary = alertHeadline(alert);
  if (!existing) {
    if (Object.keys(state.alerts).length >= limits.maxAlerts) {
      state.counters.untrackedAlerts += 1;
      return;
    }
    state.alerts[alert.fingerprint] = {
      fingerprint: alert.fingerprint,
      name: alert.name,
      source: alert.source,
      status: alert.status,
      severity: alert.severity,
      labels: alert.labels,
      summary,
      startsAt: alert.startsAt,
      ...(alert.endsAt ? { endsAt: alert.endsAt } : {}),
      ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
      firstSeenAt: now,
      lastSeenAt: now,
      refires: 0,
      ...(alert.truncation ? { truncation: alert.truncation } : {}),
    };
    if (alert.status === 'firing') {
      result.newlyFiring.push(alert.fingerprint);
      record(
        state,
        now,
        'alert_firing',
        `${alert.name} firing: ${summary}`,
        {
          data: { fingerprint: alert.fingerprint, severity: alert.severity, source: alert.source },
        },
        limits.maxTimeline,
        maxTextBytes,
      );
      raiseSeverity(state, alert, now, limits, result, maxTextBytes);
    }
    return;
  }
  existing.lastSeenAt = now;
  if (alert.truncation) existing.truncation = alert.truncation;
  if (alert.status === 'firing') {
    if (existing.status === 'resolved') {
      existing.status = 'firing';
      existing.refires += 1;
      delete existing.endsAt;
      result.newlyFiring.push(alert.fingerprint);
      record(
        state,
        now,
        'alert_firing',
        `${alert.name} firing again: ${summary}`,
        {
          data: { fingerprint: alert.fingerprint, refires: existing.refires },
        },
        limits.maxTimeline,
        maxTextBytes,
      );
    }
    existing.startsAt = alert.startsAt;
    existing.summary = summary;
    if (isWorse(alert.severity, existing.severity)) existing.severity = alert.severity;
    raiseSeverity(state, alert, now, limits, result, maxTextBytes);
  } else if (existing.status === 'firing') {
    existing.status = 'resolved';
    existing.endsAt = alert.endsAt ?? now;
    result.newlyResolved.push(alert.fingerprint);
    record(
      state,
      now,
      'alert_resolved',
      `${alert.name} resolved`,
      {
        data: { fingerprint: alert.fingerprint },
      },
      limits.maxTimeline,
      maxTextBytes,
    );
  }
}

function raiseSeverity(
  state: IntakeState,
  alert: RoutedAlert,
  now: string,
  limits: IntakeLimits,
  result: IntakeResult,
  maxTextBytes: number | undefined,
): void {
  if (!isWorse(alert.severity, state.severity)) return;
  result.severityRaisedFrom ??= state.severity;
  const from = state.severity;
  state.severity = alert.severity;
  record(
    state,
    now,
    'severity_raised',
    `Severity raised ${from} → ${alert.severity} by ${alert.name}`,
    {
      data: { from, to: alert.severity },
    },
    limits.maxTimeline,
    maxTextBytes,
  );
}

/** Fingerprints of alerts currently firing. */
export function firingAlerts(state: Pick<IntakeState, 'alerts'>): AlertRecord[] {
  return Object.values(state.alerts).filter((a) => a.status === 'firing');
}

import { z } from 'zod';
import { toMs } from './time-format';

/**
 * What the incident store keeps about incidents (the "Learn" layer's records). JSON-plain: times are
 * RFC 3339 strings, so these types travel as activity inputs from the workflow unchanged.
 */

/** How an incident ended. */
export const ResolutionOutcome = z.enum([
  /** Every alert cleared on its own; no action ran. */
  'auto_resolved',
  /** A runbook's actions fixed it. */
  'resolved_by_runbook',
  /** A person fixed it (or resolved it by hand after automation failed). */
  'resolved_manually',
  /** Closed without a fix (duplicate, false positive). */
  'cancelled',
]);
export type ResolutionOutcome = z.infer<typeof ResolutionOutcome>;

/** Result of one runbook run within an incident. `aborted` (rejected approval, stopped by a person) is not counted against the runbook. */
export const RunbookOutcome = z.enum(['success', 'failure', 'aborted']);
export type RunbookOutcome = z.infer<typeof RunbookOutcome>;

/** Where a runbook step ended up (`running`/`waiting` while it is in progress). */
export const StepResult = z.enum([
  'running',
  'waiting',
  'succeeded',
  'failed',
  'skipped',
  'aborted',
  'timed_out',
  'approved',
  'rejected',
]);
export type StepResult = z.infer<typeof StepResult>;

/**
 * One incident as the workflow reports it. Upserts merge: absent optional fields keep what is stored,
 * `fingerprints` are unioned and `highestEscalationLevel` only rises.
 */
export interface IncidentRecord {
  /** Natural key: {@link incidentKeyOf}(workflowId, openedAt). A workflow id is reused after an incident closes. */
  incidentKey: string;
  workflowId: string;
  number?: string;
  incidentType: string;
  service: string;
  severity: string;
  title: string;
  dedupKey: string;
  fingerprints?: string[];
  labels?: Record<string, string>;
  status: string;
  openedAt: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  /** When the fix was applied (the incident entered monitoring). */
  mitigatedAt?: string;
  resolvedAt?: string;
  highestEscalationLevel?: number;
  outcome?: ResolutionOutcome;
  resolvedBy?: string;
  runbook?: string;
  /** The root cause (a {@link Cause} or free text). */
  rootCause?: string;
  /** True when a person confirmed the root cause; false when it is the top hypothesis. */
  rootCauseConfirmed?: boolean;
  /** What fixed it: a runbook name, or a short description of a manual fix. */
  fix?: string;
}

/** An incident as read back from the store. */
export interface StoredIncident extends IncidentRecord {
  fingerprints: string[];
  labels: Record<string, string>;
  highestEscalationLevel: number;
  /** Seconds from opened to acknowledged. */
  ttaSeconds?: number;
  /** Seconds from opened to resolved. */
  ttrSeconds?: number;
  postmortem?: { generatedAt: string; reviewedAt?: string; reviewer?: string };
  updatedAt: string;
}

/** One runbook step of an incident; keyed by (incident, step id, attempt group). */
export interface StepRecord {
  incidentKey: string;
  stepId: string;
  /** 0 for the first run of the step; a runbook run again from the start uses 1, 2, … */
  attemptGroup?: number;
  runbook: string;
  name?: string;
  /** Step type: `action`, `approval`, `check`, `notify`, `wait`. */
  kind?: string;
  /** Catalogue action of an `action` step (e.g. `kubectl_rollout_undo`). */
  action?: string;
  attempts: number;
  result: StepResult;
  error?: string;
  /** `automation`, or `approved by <person>` for a step a person approved. */
  actor?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** One timeline entry, keyed by (incident, seq). `seq` must be stable for the entry (not a list index that shifts). */
export interface StoredEvent {
  seq: number;
  at: string;
  kind: string;
  text: string;
  actor?: string;
  data?: Record<string, string | number | boolean | null>;
}

/** One alert of an incident, for tuning; keyed by (incident, fingerprint). */
export interface AlertOccurrence {
  fingerprint: string;
  name: string;
  source?: string;
  severity?: string;
  labels: Record<string, string>;
  firstFiredAt: string;
  lastFiredAt?: string;
  resolvedAt?: string;
  /** Times it went from resolved back to firing within the incident. */
  refires: number;
  /** True once any runbook action ran for its incident. Only rises. */
  actionTaken?: boolean;
}

/** A deployment marker (`POST /api/v1/events/deployments`); unique by (service, version, at). */
export interface DeploymentRecord {
  service: string;
  version: string;
  at: string;
  description?: string;
  source?: string;
}

/** One finished runbook run; keyed by (incident, runbook). */
export interface RunbookRunRecord {
  incidentKey: string;
  runbook: string;
  incidentType: string;
  outcome: RunbookOutcome;
  finishedAt: string;
}

/** A stored postmortem. */
export interface StoredPostmortem {
  incidentKey: string;
  number?: string;
  markdown: string;
  generatedAt: string;
  reviewedAt?: string;
  reviewer?: string;
}

/** The natural key of an incident: workflow id and opening time (normalised to UTC milliseconds). */
export function incidentKeyOf(workflowId: string, openedAt: string): string {
  return `${workflowId}@${new Date(toMs(openedAt)).toISOString()}`;
}

/** `INC-YYYYMMDD-NNN`; the sequence is padded to three digits and grows past 999. */
export const INCIDENT_NUMBER = /^INC-(\d{4})(\d{2})(\d{2})-(\d{3,})$/;

/** Formats an incident number from its UTC day (`YYYY-MM-DD`) and the day's sequence (from 1). */
export function formatIncidentNumber(day: string, seq: number): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`invalid day "${day}"`);
  if (!Number.isInteger(seq) || seq < 1) throw new Error(`invalid sequence ${seq}`);
  return `INC-${day.replace(/-/g, '')}-${String(seq).padStart(3, '0')}`;
}

/** The UTC day (`YYYY-MM-DD`) incidents opened at `at` are numbered in. */
export function numberingDay(at: string): string {
  return new Date(toMs(at)).toISOString().slice(0, 10);
}

/** True for strings shaped like an incident number. */
export function isIncidentNumber(value: string): boolean {
  return INCIDENT_NUMBER.test(value);
}

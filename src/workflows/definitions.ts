import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PolicySnapshot } from '../domain/escalation-policy';
import type { IntakeLimits, RoutedAlert } from '../domain/incident';
import type { IncidentState, IncidentView } from '../domain/incident-view';
import type { Runbook } from '../domain/runbook';
import type { Severity } from '../domain/severity';

/** Task queue of the incident worker. */
export const TASK_QUEUE = 'incidentflow';

/** Payload of the `alert` signal: one batch of alerts for this incident, routed by the ingress. */
export interface AlertSignal {
  alerts: RoutedAlert[];
  /** RFC 3339 time the ingress received the batch. */
  receivedAt: string;
}

/** Common fields of signals sent on behalf of a person (Slack, REST API, Web UI, CLI). */
export interface ActorSignal {
  /** Person id from `oncall.yaml`, or a Slack user id (`U…`) that the workflow maps to a person. */
  user: string;
  /** Display name of the person (the API fills it from `oncall.yaml`); shown in the timeline. */
  name?: string;
  /** Where the action came from: `slack`, `api`, `cli`, `ui`. */
  via?: string;
  /** Idempotency key: a retried or double-clicked request with the same id acts once. */
  requestId?: string;
}

export interface AcknowledgeSignal extends ActorSignal {
  comment?: string;
}

/** `approve` payload (DESIGN §3). Authorization happens inside the workflow. */
export interface ApproveSignal extends ActorSignal {
  stepId: string;
  decision: 'approve' | 'reject';
  comment?: string;
}

export interface ResolveSignal extends ActorSignal {
  note?: string;
}

export interface EscalateSignal extends Partial<ActorSignal> {
  /** Level to jump to (1-based); the next level when omitted. */
  level?: number;
  reason?: string;
}

/** A note from a person: shows in the timeline and counts as progress. */
export interface CommentSignal extends ActorSignal {
  text: string;
}

/** "Investigate manually": assigns the person and pauses automation (runbook steps not yet started). */
export type InvestigateSignal = ActorSignal;

/** Resumes automation paused by `investigate`. */
export type ResumeAutomationSignal = ActorSignal;

/** Starts one of the incident's candidate runbooks (a suggested fix). */
export interface RunRunbookSignal extends ActorSignal {
  runbook: string;
}

export const alertSignal = defineSignal<[AlertSignal]>('alert');
export const acknowledgeSignal = defineSignal<[AcknowledgeSignal]>('acknowledge');
export const approveSignal = defineSignal<[ApproveSignal]>('approve');
export const resolveSignal = defineSignal<[ResolveSignal]>('resolve');
export const escalateSignal = defineSignal<[EscalateSignal]>('escalate');
export const commentSignal = defineSignal<[CommentSignal]>('comment');
export const investigateSignal = defineSignal<[InvestigateSignal]>('investigate');
export const resumeAutomationSignal = defineSignal<[ResumeAutomationSignal]>('resumeAutomation');
export const runRunbookSignal = defineSignal<[RunRunbookSignal]>('runRunbook');

/** Outcome of a person's action, by request id (bounded): lets Slack and the API tell the person what happened. */
export interface ActionOutcome {
  requestId: string;
  ok: boolean;
  message: string;
}

/** Looks up the outcome of a person's action by its request id. */
export const actionOutcomeQuery = defineQuery<ActionOutcome | null, [string]>('actionOutcome');

/** Full incident view: status, severity, alerts, timeline, escalation, approvals, links. */
export const incidentQuery = defineQuery<IncidentView>('incident');

/** Tunables of one incident run; the ingress fills them from the environment. */
export interface IncidentSettings {
  /** How long every alert must stay resolved before the incident resolves itself. */
  autoResolveGraceMs: number;
  /** Continue-as-new when the run's history grows past this many events (the server also suggests it). */
  maxHistoryEvents: number;
  /** Continue-as-new after this many signals in one run (Temporal refuses more than 10,000). */
  maxSignalsPerRun: number;
  limits: IntakeLimits;
  /** Base URL of the Temporal Web UI, for links. */
  temporalUiUrl?: string;
  namespace?: string;
  /** Grafana base URL (L3 dashboard link). */
  grafanaUrl?: string;
  /** Base URL of the incidentflow API, for links. */
  apiUrl?: string;
  /** Slack channel when routing names none. */
  defaultSlackChannel?: string;
  /** Integrations the worker has (the workflow skips the others). */
  features?: IncidentFeatures;
  /** How often open incidents reconcile their Alertmanager alerts (orphans after silences). */
  reconcileIntervalMs?: number;
  /**
   * Slack edit coalescing: the first change after a quiet spell is shown at once, and changes within this
   * long of the last round of Slack calls wait for the rest of it, so bursts become one update (default 1 s).
   */
  slackDebounceMs?: number;
  /**
   * Serialized incident state above this many bytes is trimmed (oldest timeline entries and runbook runs
   * archived to the store) and the incident continues as new (default 512 KiB).
   */
  stateBudgetBytes?: number;
}

/** Which integrations are configured; decided by the ingress from the environment. */
export interface IncidentFeatures {
  slack: boolean;
  store: boolean;
  pagerduty: boolean;
  alertmanager: boolean;
}

/** Input of `incidentWorkflow`. Only add optional fields: running incidents replay with old inputs. */
export interface IncidentInput {
  incidentId: string;
  dedupKey: string;
  service: string;
  incidentType: string;
  severity: Severity;
  title: string;
  routing: {
    rule: string | null;
    runbook: string | null;
    escalationPolicy: string;
    slackChannel: string | null;
  };
  settings: IncidentSettings;
  /** State carried across continue-as-new. */
  carried?: IncidentState;
  /** Alerts to apply at start (a firing alert that arrived after the previous run resolved). */
  pendingAlerts?: RoutedAlert[];
  /** Escalation policy snapshot taken at start (YAML edits do not change running incidents). */
  policy?: PolicySnapshot;
  /** Runbooks this incident may run (routing's and those matching its type), snapshotted at start. */
  runbooks?: Record<string, Runbook>;
}

/** What an incident run returns. */
export interface IncidentOutcome {
  incidentId: string;
  number?: string;
  status: 'resolved' | 'closed';
  resolvedAt: string;
  resolution: 'auto' | 'manual' | 'runbook' | 'reconciled';
  resolvedBy?: string;
}

import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { IntakeLimits, RoutedAlert } from '../domain/incident';
import type { IncidentState, IncidentView } from '../domain/incident-view';
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

export const alertSignal = defineSignal<[AlertSignal]>('alert');
export const acknowledgeSignal = defineSignal<[AcknowledgeSignal]>('acknowledge');
export const approveSignal = defineSignal<[ApproveSignal]>('approve');
export const resolveSignal = defineSignal<[ResolveSignal]>('resolve');
export const escalateSignal = defineSignal<[EscalateSignal]>('escalate');

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
}

/** What an incident run returns. */
export interface IncidentOutcome {
  incidentId: string;
  status: 'resolved' | 'closed';
  resolvedAt: string;
  resolution: 'auto' | 'manual';
  resolvedBy?: string;
}

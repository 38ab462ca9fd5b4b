import type { AlertRecord, IncidentStatus, IntakeCounters, IntakeState } from './incident';
import type { Severity } from './severity';
import type { TimelineEntry } from './timeline';

/** How an incident was resolved. */
export interface Resolution {
  reason: 'auto' | 'manual';
  by?: string;
  note?: string;
}

/**
 * The whole state of one incident, kept by its workflow and carried across continue-as-new. JSON-plain:
 * no Map, Date or class instances.
 */
export interface IncidentState extends IntakeState {
  incidentId: string;
  /** Human-readable number such as `INC-20261125-003`, once allocated. */
  number?: string;
  dedupKey: string;
  service: string;
  incidentType: string;
  title: string;
  status: IncidentStatus;
  openedAt: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  resolution?: Resolution;
  routing: {
    rule: string | null;
    runbook: string | null;
    escalationPolicy: string;
    slackChannel: string | null;
  };
  /** Request ids of person actions already applied (bounded), so retries and double clicks act once. */
  processedRequests: string[];
  /** Number of runs this incident has continued through. */
  runs: number;
}

/** What the `incident` query and `GET /api/v1/incidents/{id}` return. */
export interface IncidentView {
  incidentId: string;
  number?: string;
  title: string;
  status: IncidentStatus;
  severity: Severity;
  service: string;
  incidentType: string;
  dedupKey: string;
  openedAt: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  resolution?: Resolution;
  routing: IncidentState['routing'];
  alerts: AlertRecord[];
  counters: IntakeCounters;
  timeline: TimelineEntry[];
  links: { temporalUi?: string };
}

/** Projects the workflow state onto the public view. */
export function toView(state: IncidentState, links: IncidentView['links']): IncidentView {
  return {
    incidentId: state.incidentId,
    ...(state.number ? { number: state.number } : {}),
    title: state.title,
    status: state.status,
    severity: state.severity,
    service: state.service,
    incidentType: state.incidentType,
    dedupKey: state.dedupKey,
    openedAt: state.openedAt,
    ...(state.acknowledgedAt ? { acknowledgedAt: state.acknowledgedAt } : {}),
    ...(state.acknowledgedBy ? { acknowledgedBy: state.acknowledgedBy } : {}),
    ...(state.resolvedAt ? { resolvedAt: state.resolvedAt } : {}),
    ...(state.resolution ? { resolution: state.resolution } : {}),
    routing: state.routing,
    alerts: Object.values(state.alerts),
    counters: state.counters,
    timeline: state.timeline,
    links,
  };
}

import type { ApprovalState } from './approval';
import type { EscalationState } from './escalation';
import type { AlertRecord, IncidentStatus, IntakeCounters, IntakeState } from './incident';
import type { RunbookRunState } from './runbook-run';
import type { Severity } from './severity';
import type { Suggestion } from './slack-message';
import type { ArchiveState } from './state-bounds';
import type { TimelineEntry } from './timeline';

/** How an incident was resolved. */
export interface Resolution {
  reason: 'auto' | 'manual' | 'runbook' | 'reconciled';
  by?: string;
  note?: string;
}

/** One page sent (or attempted) by the escalation, for the record and the Web UI. */
export interface PageLogEntry {
  level: number;
  target: string;
  channel: string;
  at: string;
  status: 'sent' | 'failed' | 'skipped';
  recipients: string[];
  error?: string;
}

/** Escalation state plus what it sent. */
export interface IncidentEscalation extends EscalationState {
  pages: PageLogEntry[];
  /** Pages decided but not yet sent (carried across continue-as-new so none is lost). */
  pending: Array<{ level: number; reason: string }>;
  pagerDutyTriggered: boolean;
  pagerDutyAcknowledged: boolean;
}

/** Where the incident's Slack message lives (its `ts` is the idempotency key of every later edit). */
export interface SlackThread {
  channel: string;
  ts?: string;
  /** Sequence number of the last timeline entry posted to the thread. */
  postedSeq: number;
  /** The rendered message last sent, to skip identical updates. */
  renderedHash?: string;
  /** Set after a final Slack failure (e.g. invalid_auth): no further Slack calls. */
  disabled?: string;
  fellBack?: boolean;
  /** How many times the message was posted again after someone deleted it in Slack (bounded). */
  reposts?: number;
  /** A Slack outage in progress: retryable failures since `since`, noted once in the timeline. */
  outage?: { since: string; attempts: number; lastError: string };
  /**
   * The post in progress (the root message, or the thread batch after `postedSeq` up to `toSeq`): its
   * idempotency key and first try survive retries, so a post whose response was lost is found, not repeated.
   */
  pendingPost?: { key: string; firstTriedAt: number; tries: number; toSeq?: number };
  /** The Block Kit problems last noted, so that each distinct problem is noted once. */
  problemsNoted?: string;
}

/** A ranked root-cause hypothesis (from the learn layer). */
export interface HypothesisView {
  cause: string;
  confidence: number;
  evidence: string[];
  suggestedRunbook?: string;
  basis: string;
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
  mitigatedAt?: string;
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
  /** Last progress (acknowledgement, runbook step finished, comment): restarts the no-progress clock. */
  lastProgressAt?: string;
  /** Monotonic sequence of timeline entries (entries carry it as `data.seq`). */
  timelineSeq?: number;
  escalation?: IncidentEscalation;
  /** The current (or last) runbook run; earlier runs are summarised in `runbookHistory`. */
  runbook?: RunbookRunState;
  runbookHistory?: Array<{
    runId: string;
    runbook: string;
    status: string;
    finishedAt?: string;
    startedBy: string;
  }>;
  investigator?: string;
  automationPaused?: boolean;
  slack?: SlackThread;
  diagnosis?: HypothesisView[];
  suggestions?: Suggestion[];
  recentChange?: string;
  /** Facts found by analysis (e.g. `slowest_task`), usable in runbook templates like alert labels. */
  facts?: Record<string, string>;
  /** Learn layer bookkeeping. */
  learn?: { recorded?: boolean; diagnoses?: number; finished?: boolean; postmortemAt?: string };
  /** Timeline entries and runbook runs moved out of the state to keep it within its size budget. */
  archive?: ArchiveState;
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
  mitigatedAt?: string;
  resolvedAt?: string;
  resolution?: Resolution;
  routing: IncidentState['routing'];
  alerts: AlertRecord[];
  counters: IntakeCounters;
  timeline: TimelineEntry[];
  escalation?: {
    policy: string;
    level: number;
    highestLevel: number;
    nextAt?: string;
    next?: string;
    /** When each level of the current round was paged (RFC 3339), by level number. */
    pagedAt: Record<string, string>;
    pages: PageLogEntry[];
  };
  runbook?: RunbookRunState;
  runbookHistory: NonNullable<IncidentState['runbookHistory']>;
  pendingApprovals: Array<ApprovalState & { runbook: string }>;
  diagnosis: HypothesisView[];
  suggestions: Suggestion[];
  investigator?: string;
  automationPaused: boolean;
  slack?: { channel: string; ts?: string };
  links: { temporalUi?: string; grafana?: string };
  /** Present once older timeline entries or runbook runs left the state (archived to the store or dropped). */
  archive?: ArchiveState;
}

/** Projects the workflow state onto the public view. */
export function toView(
  state: IncidentState,
  links: IncidentView['links'],
  next?: { at: number; summary: string },
): IncidentView {
  const pendingApprovals = state.runbook
    ? Object.values(state.runbook.steps)
        .filter((s) => s.approval?.status === 'pending')
        .map((s) => ({ ...s.approval!, runbook: state.runbook!.runbook }))
    : [];
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
    ...(state.mitigatedAt ? { mitigatedAt: state.mitigatedAt } : {}),
    ...(state.resolvedAt ? { resolvedAt: state.resolvedAt } : {}),
    ...(state.resolution ? { resolution: state.resolution } : {}),
    routing: state.routing,
    alerts: Object.values(state.alerts),
    counters: state.counters,
    timeline: state.timeline,
    ...(state.escalation
      ? {
          escalation: {
            policy: state.escalation.policy,
            level: state.escalation.level,
            highestLevel: state.escalation.highestLevel,
            ...(next ? { nextAt: new Date(next.at).toISOString(), next: next.summary } : {}),
            pagedAt: Object.fromEntries(
              Object.entries(state.escalation.pagedAt).map(([level, at]) => [
                level,
                new Date(at).toISOString(),
              ]),
            ),
            pages: state.escalation.pages,
          },
        }
      : {}),
    ...(state.runbook ? { runbook: state.runbook } : {}),
    runbookHistory: state.runbookHistory ?? [],
    pendingApprovals,
    diagnosis: state.diagnosis ?? [],
    suggestions: state.suggestions ?? [],
    ...(state.investigator ? { investigator: state.investigator } : {}),
    automationPaused: state.automationPaused ?? false,
    ...(state.slack
      ? { slack: { channel: state.slack.channel, ...(state.slack.ts ? { ts: state.slack.ts } : {}) } }
      : {}),
    links,
    ...(state.archive ? { archive: state.archive } : {}),
  };
}

import { Counter, Histogram, type Registry } from 'prom-client';
import {
  INCIDENT_METRIC_EVENT_KINDS,
  type IncidentMetricEvent,
  type IncidentMetricEventKind,
} from '../domain/incident-metrics';
import { LabelGuard, OTHER } from './label-guard';

/** Label values known from the configuration: every combination of them is exported at 0 from the start. */
export interface KnownEngineLabels {
  incidentTypes: string[];
  severities: string[];
  /** Runbook name → its step ids. */
  runbooks: Record<string, string[]>;
  /** Paging channels (`slack`, `sms`, `phone`, `pagerduty`, `webhook`). */
  channels: string[];
  /** Deepest escalation level of any policy: levels 1..n are known. Default 5. */
  escalationLevels?: number;
}

export interface EngineMetricsOptions {
  /** Incident types outside the known ones admitted as themselves before clipping to `other`. Default 50. */
  maxExtraIncidentTypes?: number;
  /** Distinct `service` values admitted before clipping to `other`. Default 500. */
  maxServices?: number;
}

export const RESOLUTIONS = ['auto', 'manual', 'runbook', 'reconciled'] as const;
export const PAGE_OUTCOMES = ['sent', 'failed', 'skipped'] as const;
export const APPROVAL_DECISIONS = ['approve', 'reject', 'refused', 'timed_out'] as const;
export const STEP_OUTCOMES = ['succeeded', 'failed', 'rejected', 'timed_out'] as const;
export const RUNBOOK_OUTCOMES = ['succeeded', 'failed', 'aborted', 'cancelled'] as const;
export const EVENT_RESULTS = ['recorded', 'invalid'] as const;
export const GUARDED_LABELS = [
  'incident_type',
  'severity',
  'service',
  'level',
  'channel',
  'runbook',
  'step',
  'resolution',
] as const;
type GuardedLabel = (typeof GUARDED_LABELS)[number];

/** 1 min … 7 d: acknowledgement and resolution happen in minutes to days. */
export const INCIDENT_DURATION_BUCKETS = [
  60, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800,
];

/**
 * The engine's business metrics, recorded from the incident workflow's {@link IncidentMetricEvent}s by the
 * `recordIncidentMetrics` local activity. Registered on the injected registry. Every combination of known
 * label values starts at 0 (Alertmanager's `InitializeFor`), so the first event is visible to `rate()`;
 * `service` is open-ended and is not pre-initialised. Unknown values are clipped to `other` (see
 * docs/observability.md "Label cardinality").
 */
export function createEngineMetrics(
  registry: Registry,
  known: KnownEngineLabels,
  options: EngineMetricsOptions = {},
) {
  const registers = [registry];
  const clipped = new Counter({
    name: 'incidentflow_metric_label_values_clipped_total',
    help: 'Engine metric label values replaced by "other" by the cardinality guard, by label',
    labelNames: ['label'] as const,
    registers,
  });
  const clip = (label: GuardedLabel) => () => clipped.inc({ label });
  const levels = Array.from({ length: Math.max(1, known.escalationLevels ?? 5) }, (_, i) => String(i + 1));
  const guards = {
    incidentType: new LabelGuard(known.incidentTypes, {
      maxDynamic: options.maxExtraIncidentTypes ?? 50,
      onClip: clip('incident_type'),
    }),
    severity: new LabelGuard(known.severities, { onClip: clip('severity') }),
    service: new LabelGuard([], {
      maxDynamic: options.maxServices ?? 500,
      maxLength: 128,
      onClip: clip('service'),
    }),
    level: new LabelGuard(levels, { onClip: clip('level') }),
    channel: new LabelGuard(known.channels, { onClip: clip('channel') }),
    runbook: new LabelGuard(Object.keys(known.runbooks), { onClip: clip('runbook') }),
    resolution: new LabelGuard(RESOLUTIONS, { onClip: clip('resolution') }),
  };
  const stepGuards = new Map(
    Object.entries(known.runbooks).map(([name, steps]) => [
      name,
      new LabelGuard(steps, { onClip: clip('step') }),
    ]),
  );
  const stepOf = (runbook: string, step: string): string => {
    const guard = stepGuards.get(runbook);
    if (guard) return guard.value(step);
    clipped.inc({ label: 'step' });
    return OTHER;
  };

  const events = new Counter({
    name: 'incidentflow_metric_events_total',
    help: 'Incident metric events received from workflows, by kind and whether they were recorded or invalid',
    labelNames: ['kind', 'result'] as const,
    registers,
  });
  const opened = new Counter({
    name: 'incidentflow_incidents_opened_total',
    help: 'Incidents opened, by incident type, severity and service',
    labelNames: ['incident_type', 'severity', 'service'] as const,
    registers,
  });
  const resolved = new Counter({
    name: 'incidentflow_incidents_resolved_total',
    help: 'Incidents resolved, by incident type, severity and resolution (auto, manual, runbook, reconciled)',
    labelNames: ['incident_type', 'severity', 'resolution'] as const,
    registers,
  });
  const timeToAcknowledge = new Histogram({
    name: 'incidentflow_time_to_acknowledge_seconds',
    help: 'Time from opening to the first acknowledgement',
    labelNames: ['incident_type', 'severity'] as const,
    buckets: INCIDENT_DURATION_BUCKETS,
    registers,
  });
  const timeToResolve = new Histogram({
    name: 'incidentflow_time_to_resolve_seconds',
    help: 'Time from opening to resolution',
    labelNames: ['incident_type', 'severity'] as const,
    buckets: INCIDENT_DURATION_BUCKETS,
    registers,
  });
  const escalationLevel = new Counter({
    name: 'incidentflow_escalation_level_reached_total',
    help: 'Escalation levels reached (paged), by incident type and 1-based level',
    labelNames: ['incident_type', 'level'] as const,
    registers,
  });
  const pages = new Counter({
    name: 'incidentflow_pages_total',
    help: 'Escalation pages, by channel and outcome (sent, failed, skipped)',
    labelNames: ['channel', 'outcome'] as const,
    registers,
  });
  const approvals = new Counter({
    name: 'incidentflow_approvals_total',
    help: 'Runbook approval gate decisions, by runbook and decision (approve, reject, refused, timed_out)',
    labelNames: ['runbook', 'decision'] as const,
    registers,
  });
  const stepOutcomes = new Counter({
    name: 'incidentflow_runbook_step_outcomes_total',
    help: 'Finished runbook steps, by runbook, step id and outcome',
    labelNames: ['runbook', 'step', 'outcome'] as const,
    registers,
  });
  const runbookRuns = new Counter({
    name: 'incidentflow_runbook_runs_total',
    help: 'Finished runbook runs, by runbook, incident type and outcome',
    labelNames: ['runbook', 'incident_type', 'outcome'] as const,
    registers,
  });

  // Pre-initialisation: every known combination exported at 0.
  for (const label of GUARDED_LABELS) clipped.inc({ label }, 0);
  for (const kind of [...INCIDENT_METRIC_EVENT_KINDS, 'unknown'])
    for (const result of EVENT_RESULTS) events.inc({ kind, result }, 0);
  for (const incident_type of known.incidentTypes) {
    for (const severity of known.severities) {
      for (const resolution of RESOLUTIONS) resolved.inc({ incident_type, severity, resolution }, 0);
      timeToAcknowledge.zero({ incident_type, severity });
      timeToResolve.zero({ incident_type, severity });
    }
    for (const level of levels) escalationLevel.inc({ incident_type, level }, 0);
    for (const runbook of Object.keys(known.runbooks))
      for (const outcome of RUNBOOK_OUTCOMES) runbookRuns.inc({ runbook, incident_type, outcome }, 0);
  }
  for (const channel of known.channels)
    for (const outcome of PAGE_OUTCOMES) pages.inc({ channel, outcome }, 0);
  for (const [runbook, steps] of Object.entries(known.runbooks)) {
    for (const decision of APPROVAL_DECISIONS) approvals.inc({ runbook, decision }, 0);
    for (const step of steps)
      for (const outcome of STEP_OUTCOMES) stepOutcomes.inc({ runbook, step, outcome }, 0);
  }

  function apply(event: IncidentMetricEvent): void {
    switch (event.kind) {
      case 'opened':
        opened.inc({
          incident_type: guards.incidentType.value(event.incidentType),
          severity: guards.severity.value(event.severity),
          service: guards.service.value(event.service),
        });
        return;
      case 'acknowledged':
        timeToAcknowledge.observe(
          {
            incident_type: guards.incidentType.value(event.incidentType),
            severity: guards.severity.value(event.severity),
          },
          event.ttaSeconds,
        );
        return;
      case 'escalated':
        escalationLevel.inc({
          incident_type: guards.incidentType.value(event.incidentType),
          level: guards.level.value(String(event.level)),
        });
        return;
      case 'paged':
        pages.inc({ channel: guards.channel.value(event.channel), outcome: event.outcome });
        return;
      case 'approval':
        approvals.inc({ runbook: guards.runbook.value(event.runbook), decision: event.decision });
        return;
      case 'step': {
        const runbook = guards.runbook.value(event.runbook);
        stepOutcomes.inc({ runbook, step: stepOf(runbook, event.step), outcome: event.outcome });
        return;
      }
      case 'runbook':
        runbookRuns.inc({
          runbook: guards.runbook.value(event.runbook),
          incident_type: guards.incidentType.value(event.incidentType),
          outcome: event.outcome,
        });
        return;
      case 'resolved': {
        const incident_type = guards.incidentType.value(event.incidentType);
        const severity = guards.severity.value(event.severity);
        resolved.inc({ incident_type, severity, resolution: guards.resolution.value(event.resolution) });
        timeToResolve.observe({ incident_type, severity }, event.ttrSeconds);
        return;
      }
    }
  }

  return {
    /** Records one validated event. */
    record(event: IncidentMetricEvent): void {
      apply(event);
      events.inc({ kind: event.kind, result: 'recorded' });
    },
    /** Counts an event that failed validation (it is otherwise dropped). */
    recordInvalid(kind: IncidentMetricEventKind | 'unknown'): void {
      events.inc({ kind, result: 'invalid' });
    },
  };
}

export type EngineMetrics = ReturnType<typeof createEngineMetrics>;

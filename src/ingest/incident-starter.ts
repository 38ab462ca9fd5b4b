import { WorkflowNotFoundError } from '@temporalio/client';
import { type Alert, alertHeadline, deliveryKey } from '../domain/alert';
import { boundAlert } from '../domain/alert-bounds';
import { DEFAULT_INTAKE_LIMITS, type RoutedAlert } from '../domain/incident';
import { incidentDetails, incidentSummary } from '../domain/incident-text';
import { snapshotPolicy } from '../domain/escalation-policy';
import { incidentWorkflowId, type RouteDecision, routeAlert } from '../domain/routing';
import { type Runbook, runbookMatches } from '../domain/runbook';
import type { AppConfig } from '../config/load-config';
import { worst } from '../domain/severity';
import {
  type AlertSignal,
  alertSignal,
  type IncidentInput,
  type IncidentSettings,
  TASK_QUEUE,
} from '../workflows/definitions';
import {
  IncidentKey,
  IncidentServiceKey,
  IncidentSeverityKey,
  IncidentStatusKey,
} from '../workflows/search-attributes';
import type { incidentWorkflow } from '../workflows';
import type { TemporalClient } from '../temporal/client';
import { DeliveryCache } from './delivery-cache';

/** What happened to one incident during an ingest call. */
export interface IngestedIncident {
  incidentId: string;
  /** Run that received the alerts; absent when no open incident existed for resolved-only alerts. */
  runId?: string;
  alerts: number;
  outcome: 'signaled' | 'no_open_incident';
}

export interface IngestResult {
  incidents: IngestedIncident[];
  /** Alerts dropped as exact re-deliveries. */
  duplicates: number;
  /** Alerts delivered with values truncated or labels/annotations dropped by the size caps. */
  truncated: number;
}

export interface IncidentStarterOptions {
  temporal: TemporalClient;
  /** The current configuration (routing, policies, runbooks): snapshotted into each new incident. */
  config: () => Pick<AppConfig, 'routing' | 'policies' | 'runbooks'>;
  settings: IncidentSettings;
  /** Deadline for each Temporal call; past it the caller answers 503. */
  callTimeoutMs?: number;
  cache?: DeliveryCache;
  /** Task queue of the incident worker (tests use their own). */
  taskQueue?: string;
}

/** Settings derived from the environment for new incidents. */
export function defaultIncidentSettings(overrides: Partial<IncidentSettings> = {}): IncidentSettings {
  return {
    autoResolveGraceMs: 5 * 60_000,
    maxHistoryEvents: 8_000,
    maxSignalsPerRun: 2_000,
    limits: DEFAULT_INTAKE_LIMITS,
    ...overrides,
  };
}

interface Group {
  decision: RouteDecision;
  alerts: RoutedAlert[];
}

/** What {@link incidentStartOptions} needs: the routing decision and the firing alerts of one incident. */
export interface IncidentStartRequest {
  workflowId: string;
  decision: RouteDecision;
  /** The alert signal; at least one of its alerts must be firing. */
  signal: AlertSignal;
  config: Pick<AppConfig, 'policies' | 'runbooks'>;
  settings: IncidentSettings;
  taskQueue: string;
}

/**
 * The signal-with-start call that opens or joins an incident: input with the policy and matching runbooks
 * snapshotted, search attributes, and the Web UI summary and details. Pure; exported so the ingest benchmark's
 * baseline sends exactly the same call.
 */
export function incidentStartOptions(req: IncidentStartRequest) {
  const firing = req.signal.alerts.filter((a) => a.status === 'firing');
  const first = firing[0];
  if (!first) throw new Error('incidentStartOptions: no firing alert');
  const d = req.decision;
  const severity = firing.reduce((s, a) => worst(s, a.severity), d.severity);
  const title = alertHeadline(first);
  const policy =
    snapshotPolicy(req.config.policies, d.escalationPolicy) ?? snapshotPolicy(req.config.policies, 'default');
  const runbooks: Record<string, Runbook> = {};
  for (const [name, rb] of Object.entries(req.config.runbooks)) {
    if (name === d.runbook || runbookMatches(rb, { incidentType: d.incidentType, labels: first.labels }))
      runbooks[name] = rb;
  }
  const input: IncidentInput = {
    incidentId: req.workflowId,
    dedupKey: d.dedupKey,
    service: d.service,
    incidentType: d.incidentType,
    severity,
    title,
    routing: {
      rule: d.rule,
      runbook: d.runbook,
      escalationPolicy: d.escalationPolicy,
      slackChannel: d.slackChannel,
    },
    settings: req.settings,
    ...(policy ? { policy } : {}),
    runbooks,
  };
  return {
    workflowId: req.workflowId,
    taskQueue: req.taskQueue,
    args: [input] as [IncidentInput],
    signal: alertSignal,
    signalArgs: [req.signal] as [AlertSignal],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: IncidentKey, value: d.dedupKey },
      { key: IncidentServiceKey, value: d.service },
      { key: IncidentSeverityKey, value: severity },
      { key: IncidentStatusKey, value: 'triggered' },
    ],
    staticSummary: incidentSummary({ severity, service: d.service, title }),
    staticDetails: incidentDetails({ ...input, labels: first.labels }),
  };
}

/**
 * Routes alerts to incidents and delivers them with signal-with-start (one call per incident). Every alert
 * is size-capped first (`alert-bounds`); exact re-deliveries are dropped; resolved-only batches never open
 * an incident.
 */
export function createIncidentStarter(options: IncidentStarterOptions) {
  const cache = options.cache ?? new DeliveryCache();
  const timeout = options.callTimeoutMs ?? 5_000;
  const { client } = options.temporal;

  async function deliver(workflowId: string, group: Group, receivedAt: string): Promise<IngestedIncident> {
    const signal = { alerts: group.alerts, receivedAt };
    const firing = group.alerts.filter((a) => a.status === 'firing');
    if (firing.length === 0) {
      try {
        const handle = client.workflow.getHandle(workflowId);
        await options.temporal.withDeadline(timeout, () => handle.signal(alertSignal, signal));
        return { incidentId: workflowId, alerts: group.alerts.length, outcome: 'signaled' };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          return { incidentId: workflowId, alerts: group.alerts.length, outcome: 'no_open_incident' };
        }
        throw err;
      }
    }
    const start = incidentStartOptions({
      workflowId,
      decision: group.decision,
      signal,
      config: options.config(),
      settings: options.settings,
      taskQueue: options.taskQueue ?? TASK_QUEUE,
    });
    const handle = await options.temporal.withDeadline(timeout, () =>
      client.workflow.signalWithStart<typeof incidentWorkflow, [AlertSignal]>('incidentWorkflow', start),
    );
    return {
      incidentId: workflowId,
      runId: handle.signaledRunId,
      alerts: group.alerts.length,
      outcome: 'signaled',
    };
  }

  return {
    cache,
    /**
     * Delivers alerts. Throws when Temporal is unreachable (nothing is remembered then, so the caller's
     * retry delivers again).
     */
    async ingest(alerts: readonly Alert[], receivedAt = new Date().toISOString()): Promise<IngestResult> {
      const routing = options.config().routing;
      const groups = new Map<string, Group>();
      let duplicates = 0;
      let truncated = 0;
      const batchKeys = new Set<string>();
      for (const received of alerts) {
        // Size caps before anything reaches Temporal: oversized values are cut with a marker, not refused.
        const alert = boundAlert(received);
        if (alert.truncation) truncated += 1;
        const key = deliveryKey(alert);
        if (cache.has(key) || batchKeys.has(key)) {
          duplicates += 1;
          continue;
        }
        batchKeys.add(key);
        const decision = routeAlert(alert.labels, routing);
        const id = incidentWorkflowId(decision);
        const group = groups.get(id) ?? { decision, alerts: [] };
        group.alerts.push({ ...alert, severity: decision.severity });
        groups.set(id, group);
      }
      const incidents = await Promise.all([...groups].map(([id, group]) => deliver(id, group, receivedAt)));
      for (const key of batchKeys) cache.add(key);
      return { incidents, duplicates, truncated };
    },
  };
}

export type IncidentStarter = ReturnType<typeof createIncidentStarter>;

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const ALERT_SOURCES = ['alertmanager', 'generic', 'airflow', 'data_quality'] as const;
export const ALERT_OUTCOMES = [
  'accepted',
  'duplicate',
  'no_open_incident',
  'rejected',
  'unavailable',
] as const;
/** Why the ingress refused a delivery (one count per refused request). */
export const REJECT_REASONS = ['invalid_payload', 'unauthorized', 'too_large', 'unavailable'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** API metrics, built on an injected registry with every known label combination pre-initialised to 0. */
export function createApiMetrics(registry: Registry) {
  const alertsReceived = new Counter({
    name: 'incidentflow_alerts_received_total',
    help: 'Alerts received by the ingress, by source and outcome',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  for (const source of ALERT_SOURCES)
    for (const outcome of ALERT_OUTCOMES) alertsReceived.inc({ source, outcome }, 0);

  const alertsDeduplicated = new Counter({
    name: 'incidentflow_alerts_deduplicated_total',
    help: 'Alerts dropped by the ingress as exact re-deliveries, by source',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const alertsRejected = new Counter({
    name: 'incidentflow_alerts_rejected_total',
    help: 'Alert deliveries (requests) the ingress refused, by source and reason',
    labelNames: ['source', 'reason'] as const,
    registers: [registry],
  });
  const ingestLatency = new Histogram({
    name: 'incidentflow_ingest_latency_seconds',
    help: 'Time from the start of an alert request to Temporal answering its signal-with-start calls',
    labelNames: ['source'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  for (const source of ALERT_SOURCES) {
    alertsDeduplicated.inc({ source }, 0);
    for (const reason of REJECT_REASONS) alertsRejected.inc({ source, reason }, 0);
    ingestLatency.zero({ source });
  }

  const httpDuration = new Histogram({
    name: 'incidentflow_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return { alertsReceived, alertsDeduplicated, alertsRejected, ingestLatency, httpDuration };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** A registry with the process's default metrics. */
export function createRegistry(prefix = 'incidentflow_'): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

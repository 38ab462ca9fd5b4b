import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const ALERT_SOURCES = ['alertmanager', 'generic', 'airflow', 'data_quality'] as const;
export const ALERT_OUTCOMES = [
  'accepted',
  'duplicate',
  'no_open_incident',
  'rejected',
  'unavailable',
] as const;

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

  const httpDuration = new Histogram({
    name: 'incidentflow_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return { alertsReceived, httpDuration };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** A registry with the process's default metrics. */
export function createRegistry(prefix = 'incidentflow_'): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

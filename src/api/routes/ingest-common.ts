import type { RouteShorthandOptions } from 'fastify';
import type { Alert, AlertSource } from '../../domain/alert';
import type { IngestResult } from '../../ingest/incident-starter';
import type { ApiMetrics, RejectReason } from '../../metrics/registry';
import { isTemporalUnavailable } from '../../temporal/client';
import type { AppDeps } from '../deps';
import { HttpError } from '../errors';

/**
 * Counts one refused delivery: `incidentflow_alerts_rejected_total{source,reason}` once per request, and
 * `incidentflow_alerts_received_total` as before (`unavailable` per alert, the 4xx reasons as `rejected`).
 */
export function countRejected(
  metrics: ApiMetrics,
  source: AlertSource,
  reason: RejectReason,
  alerts = 1,
): void {
  metrics.alertsRejected.inc({ source, reason });
  metrics.alertsReceived.inc(
    { source, outcome: reason === 'unavailable' ? 'unavailable' : 'rejected' },
    alerts,
  );
}

/**
 * Options of an alert ingress route: the bearer-token check (401 counted as `unauthorized` by the hook) and
 * an `onError` hook counting requests refused with 400 (invalid JSON or payload) or 413 (body too large)
 * under the route's source. 503s are counted by {@link ingestAlerts}, which knows the alerts.
 */
export function ingestRouteOptions(deps: AppDeps, source: AlertSource): RouteShorthandOptions {
  return {
    onRequest: deps.requireIngestToken(source),
    onError: async (_req, _reply, error) => {
      const status =
        error instanceof HttpError ? error.statusCode : (error as { statusCode?: unknown }).statusCode;
      if (status === 400) countRejected(deps.metrics, source, 'invalid_payload');
      else if (status === 413) countRejected(deps.metrics, source, 'too_large');
      return Promise.resolve();
    },
  };
}

/**
 * Hands alerts to the incident starter and counts them. Temporal unreachable → 503 (Alertmanager
 * retries 5xx); nothing is remembered in that case, so the retry is delivered. `elapsedSeconds` (time since
 * the request started) is observed as the ingest latency once Temporal has answered.
 */
export async function ingestAlerts(
  deps: AppDeps,
  source: AlertSource,
  alerts: Alert[],
  elapsedSeconds?: () => number,
): Promise<IngestResult & { accepted: number }> {
  let result: IngestResult;
  try {
    result = await deps.starter.ingest(alerts);
  } catch (err) {
    if (isTemporalUnavailable(err)) {
      countRejected(deps.metrics, source, 'unavailable', alerts.length);
      throw new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable; retry later');
    }
    throw err;
  }
  // Only requests that reached Temporal: a batch of re-deliveries alone would flatter the latency.
  if (elapsedSeconds && result.incidents.length > 0)
    deps.metrics.ingestLatency.observe({ source }, elapsedSeconds());
  const noIncident = result.incidents
    .filter((i) => i.outcome === 'no_open_incident')
    .reduce((n, i) => n + i.alerts, 0);
  const accepted = alerts.length - result.duplicates - noIncident;
  deps.metrics.alertsReceived.inc({ source, outcome: 'accepted' }, accepted);
  deps.metrics.alertsReceived.inc({ source, outcome: 'duplicate' }, result.duplicates);
  deps.metrics.alertsReceived.inc({ source, outcome: 'no_open_incident' }, noIncident);
  deps.metrics.alertsDeduplicated.inc({ source }, result.duplicates);
  return { accepted, ...result };
}

import type { Alert, AlertSource } from '../../domain/alert';
import type { IngestResult } from '../../ingest/incident-starter';
import { isTemporalUnavailable } from '../../temporal/client';
import type { AppDeps } from '../deps';
import { HttpError } from '../errors';

/**
 * Hands alerts to the incident starter and counts them. Temporal unreachable → 503 (Alertmanager
 * retries 5xx); nothing is remembered in that case, so the retry is delivered.
 */
export async function ingestAlerts(
  deps: AppDeps,
  source: AlertSource,
  alerts: Alert[],
): Promise<IngestResult & { accepted: number }> {
  let result: IngestResult;
  try {
    result = await deps.starter.ingest(alerts);
  } catch (err) {
    if (isTemporalUnavailable(err)) {
      deps.metrics.alertsReceived.inc({ source, outcome: 'unavailable' }, alerts.length);
      throw new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable; retry later');
    }
    throw err;
  }
  const noIncident = result.incidents
    .filter((i) => i.outcome === 'no_open_incident')
    .reduce((n, i) => n + i.alerts, 0);
  const accepted = alerts.length - result.duplicates - noIncident;
  deps.metrics.alertsReceived.inc({ source, outcome: 'accepted' }, accepted);
  deps.metrics.alertsReceived.inc({ source, outcome: 'duplicate' }, result.duplicates);
  deps.metrics.alertsReceived.inc({ source, outcome: 'no_open_incident' }, noIncident);
  return { accepted, ...result };
}

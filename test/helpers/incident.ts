import type { AppConfig } from '../../src/config/load-config';
import { alertsFromWebhook } from '../../src/domain/alertmanager';
import type { Severity } from '../../src/domain/severity';
import { createIncidentStarter, defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { createTemporalClient } from '../../src/temporal/client';
import type { IncidentFeatures, IncidentSettings } from '../../src/workflows/definitions';
import { alertmanagerPayload, uniqueKey } from './alerts';
import { shippedConfig } from './app';

export const ALL_OFF: IncidentFeatures = {
  slack: false,
  store: false,
  pagerduty: false,
  alertmanager: false,
};

export interface OpenIncidentOptions {
  address: string;
  taskQueue: string;
  config?: AppConfig;
  severity?: Severity;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  settings?: Partial<IncidentSettings>;
  fingerprint?: string;
  startsAt?: string;
}

/**
 * Opens an incident exactly as the ingress does (routing, policy and runbook snapshots, signal-with-start)
 * from one firing Alertmanager alert. Returns the workflow id.
 */
export async function openIncident(
  options: OpenIncidentOptions,
): Promise<{ incidentId: string; runId: string }> {
  const temporal = createTemporalClient(options.address, 'default');
  try {
    const config = options.config ?? shippedConfig;
    const starter = createIncidentStarter({
      temporal,
      taskQueue: options.taskQueue,
      config: () => config,
      settings: defaultIncidentSettings({
        autoResolveGraceMs: 60_000,
        features: ALL_OFF,
        ...options.settings,
      }),
    });
    const payload = alertmanagerPayload(
      [
        {
          ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}),
          ...(options.startsAt ? { startsAt: options.startsAt } : {}),
          labels: {
            alertname: 'AirflowTaskFailureRateHigh',
            // Routing derives the incident key from the DAG: a unique DAG keeps tests apart.
            dag_id: uniqueKey('customer_etl'),
            severity: options.severity ?? 'P2',
            ...options.labels,
          },
          annotations: options.annotations ?? { summary: 'customer_etl: task failure rate > 50% for 5m' },
        },
      ],
      {},
    );
    const result = await starter.ingest(alertsFromWebhook(payload));
    const first = result.incidents[0]!;
    return { incidentId: first.incidentId, runId: first.runId! };
  } finally {
    await temporal.close();
  }
}

/**
 * `npm run demo`: posts the seed's scenario-1 alert (the `customer_etl` transform task failing) to the
 * running API as Alertmanager would, then prints where to look. Run `npm start` first.
 *
 * The API is INCIDENTFLOW_API_URL when set, else http://localhost:$PORT (PORT defaults to 8080).
 */
import { loadEnv } from '../src/config/env';

const env = loadEnv();
const api = process.env.INCIDENTFLOW_API_URL ?? `http://localhost:${env.PORT}`;
const startsAt = new Date().toISOString();

const payload = {
  version: '4',
  groupKey: '{}/{severity="P2"}:{alertname="AirflowTaskFailureRateHigh", dag_id="customer_etl"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'incidentflow',
  groupLabels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: 'customer_etl' },
  commonLabels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: 'customer_etl', severity: 'P2' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.local:9093',
  alerts: [
    {
      status: 'firing',
      labels: {
        alertname: 'AirflowTaskFailureRateHigh',
        dag_id: 'customer_etl',
        task_id: 'transform',
        severity: 'P2',
        incident_type: 'task_temporary_failure',
        runbook: 'task_temporary_failure',
      },
      annotations: {
        summary: 'customer_etl: task failure rate > 50% for 5m (transform stage 1 failing)',
        description: 'Transient DB connection error in transform stage 1 of customer_etl.',
      },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.local:9090/graph?g0.expr=airflow_task_failure_ratio',
      fingerprint: 'c0ffee0000000001',
    },
  ],
};

async function main(): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (env.INCIDENTFLOW_INGEST_TOKEN) headers.authorization = `Bearer ${env.INCIDENTFLOW_INGEST_TOKEN}`;
  const res = await fetch(`${api}/api/v1/alerts/alertmanager`, {
    method: 'POST',
    headers,
    body: JSON.stringify(payload),
  });
  const body = (await res.json()) as { incidents?: Array<{ incidentId: string }> };
  console.log(`POST /api/v1/alerts/alertmanager → ${res.status}`);
  console.log(JSON.stringify(body, null, 2));
  const id = body.incidents?.[0]?.incidentId;
  if (!res.ok || !id) process.exit(1);
  console.log(`\nIncident:   ${api}/api/v1/incidents/${encodeURIComponent(id)}`);
  console.log(
    `Web UI:     ${env.TEMPORAL_UI_URL}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(id)}`,
  );
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${String(err)} (is "npm start" running at ${api}?)`);
  process.exit(1);
});

/**
 * `promtool check metrics` (Prometheus 2.42) on what `GET /metrics` really serves in the embedded role
 * (`--role=all`): one registry with process metrics, API metrics, scrape-time collectors and engine metrics.
 */
import { spawnSync } from 'node:child_process';
import { type Registry } from 'prom-client';
import { createMetricsActivities } from '../../src/activities/metrics.activities';
import type { IncidentMetricEvent } from '../../src/domain/incident-metrics';
import { createEngineMetrics } from '../../src/metrics/engine-metrics';
import { knownEngineLabels } from '../../src/metrics/known-labels';
import { createRegistry } from '../../src/metrics/registry';
import { alertmanagerPayload, uniqueKey } from '../helpers/alerts';
import { buildTestApp, shippedConfig } from '../helpers/app';
import { uniqueTaskQueue } from '../helpers/temporal';

/** Lint findings on prom-client's own default metrics (gauges named `*_total`), not ours to fix. */
const DEFAULT_METRICS = /^incidentflow_(nodejs|process)_/;

function promtoolCheckMetrics(text: string): { status: number | null; problems: string[] } {
  const result = spawnSync('promtool', ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error)
    throw new Error(
      `promtool could not run (${result.error.message}): install the Debian package prometheus`,
    );
  const problems = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.trim() !== '');
  return { status: result.status, problems };
}

const events: IncidentMetricEvent[] = [
  { kind: 'opened', incidentType: 'sla_miss', severity: 'P1', service: 'customer_etl' },
  { kind: 'acknowledged', incidentType: 'sla_miss', severity: 'P1', ttaSeconds: 240 },
  { kind: 'escalated', incidentType: 'sla_miss', severity: 'P1', level: 2 },
  { kind: 'paged', channel: 'slack', outcome: 'sent' },
  { kind: 'approval', runbook: 'sla_miss', decision: 'approve' },
  { kind: 'step', runbook: 'sla_miss', step: 'not_a_step', outcome: 'succeeded' },
  { kind: 'runbook', runbook: 'sla_miss', incidentType: 'sla_miss', outcome: 'succeeded' },
  {
    kind: 'resolved',
    incidentType: 'sla_miss',
    severity: 'P1',
    service: 'customer_etl',
    resolution: 'runbook',
    ttrSeconds: 5400,
    highestLevel: 2,
  },
];

let text: string;

beforeAll(async () => {
  const registry: Registry = createRegistry();
  const { recordIncidentMetrics } = createMetricsActivities(
    createEngineMetrics(registry, knownEngineLabels(shippedConfig)),
  );
  await recordIncidentMetrics({ events });
  const testApp = buildTestApp({
    address: process.env.TEMPORAL_TEST_ADDRESS!,
    taskQueue: uniqueTaskQueue('exposition'),
    token: 't',
    registry,
  });
  try {
    const payload = alertmanagerPayload([
      { labels: { dedup_key: uniqueKey('expo'), service: 'customer_etl' } },
    ]);
    const res = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/alertmanager',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
      payload: JSON.stringify(payload),
    });
    expect(res.statusCode).toBe(202);
    text = (await testApp.app.inject({ method: 'GET', url: '/metrics' })).body;
  } finally {
    await testApp.close();
  }
});

describe('promtool check metrics on GET /metrics', () => {
  it('serves every incidentflow metric family', () => {
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(families).toEqual(
      expect.arrayContaining([
        'incidentflow_alerts_received_total counter',
        'incidentflow_alerts_deduplicated_total counter',
        'incidentflow_alerts_rejected_total counter',
        'incidentflow_ingest_latency_seconds histogram',
        'incidentflow_http_request_duration_seconds histogram',
        'incidentflow_open_incidents gauge',
        'incidentflow_oncall_info gauge',
        'incidentflow_metrics_collect_errors_total counter',
        'incidentflow_incidents_opened_total counter',
        'incidentflow_incidents_resolved_total counter',
        'incidentflow_time_to_acknowledge_seconds histogram',
        'incidentflow_time_to_resolve_seconds histogram',
        'incidentflow_escalation_level_reached_total counter',
        'incidentflow_pages_total counter',
        'incidentflow_approvals_total counter',
        'incidentflow_runbook_step_outcomes_total counter',
        'incidentflow_runbook_runs_total counter',
        'incidentflow_metric_events_total counter',
        'incidentflow_metric_label_values_clipped_total counter',
      ]),
    );
  });

  it('finds no parse error and no naming problem in incidentflow metrics', () => {
    const { problems } = promtoolCheckMetrics(text);
    expect(problems.filter((p) => !DEFAULT_METRICS.test(p))).toEqual([]);
  });

  it('reports naming problems when there are some (control for the check above)', () => {
    const bad =
      '# HELP incidentflow_pages counted pages\n# TYPE incidentflow_pages counter\nincidentflow_pages 1\n';
    const { status, problems } = promtoolCheckMetrics(`${text}${bad}`);
    expect(status).not.toBe(0);
    expect(problems).toContain('incidentflow_pages counter metrics should have "_total" suffix');
  });

  it('reports a text that is not in the exposition format (control for the check above)', () => {
    const { status, problems } = promtoolCheckMetrics(`${text}incidentflow_broken{label="x" 1\n`);
    expect(status).not.toBe(0);
    expect(problems.join('\n')).toContain('text format parsing error');
  });
});

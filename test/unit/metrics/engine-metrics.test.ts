import { Registry } from 'prom-client';
import type { IncidentMetricEvent } from '../../../src/domain/incident-metrics';
import {
  createEngineMetrics,
  type EngineMetricsOptions,
  INCIDENT_DURATION_BUCKETS,
  type KnownEngineLabels,
} from '../../../src/metrics/engine-metrics';
import { parseMetrics, type Sample, samplesOf, valueOf } from '../../helpers/metrics-text';

const known: KnownEngineLabels = {
  incidentTypes: ['sla_miss', 'task_temporary_failure'],
  severities: ['P1', 'P2', 'P3', 'P4'],
  runbooks: { restart_workers: ['check', 'approve', 'restart'], retry_task: ['retry'] },
  channels: ['slack', 'sms'],
  escalationLevels: 3,
};

function setup(options: EngineMetricsOptions = {}) {
  const registry = new Registry();
  const metrics = createEngineMetrics(registry, known, options);
  const scrape = async (): Promise<Sample[]> => parseMetrics(await registry.metrics());
  return { metrics, scrape };
}

const TYPES = known.incidentTypes;
const SEVERITIES = known.severities;
const RUNBOOKS = Object.keys(known.runbooks);
const cross = <T extends Record<string, string>>(parts: Record<keyof T, readonly string[]>): T[] =>
  Object.entries(parts).reduce<Record<string, string>[]>(
    (acc, [key, values]) => acc.flatMap((a) => (values as string[]).map((v) => ({ ...a, [key]: v }))),
    [{}],
  ) as T[];

describe('createEngineMetrics pre-initialisation', () => {
  const expected: Array<[string, Record<string, string>[]]> = [
    [
      'incidentflow_incidents_resolved_total',
      cross({
        incident_type: TYPES,
        severity: SEVERITIES,
        resolution: ['auto', 'manual', 'runbook', 'reconciled'],
      }),
    ],
    ['incidentflow_time_to_acknowledge_seconds_count', cross({ incident_type: TYPES, severity: SEVERITIES })],
    ['incidentflow_time_to_resolve_seconds_count', cross({ incident_type: TYPES, severity: SEVERITIES })],
    ['incidentflow_escalation_level_reached_total', cross({ incident_type: TYPES, level: ['1', '2', '3'] })],
    [
      'incidentflow_pages_total',
      cross({ channel: ['slack', 'sms'], outcome: ['sent', 'failed', 'skipped'] }),
    ],
    [
      'incidentflow_approvals_total',
      cross({ runbook: RUNBOOKS, decision: ['approve', 'reject', 'refused', 'timed_out'] }),
    ],
    [
      'incidentflow_runbook_step_outcomes_total',
      Object.entries(known.runbooks).flatMap(([runbook, steps]) =>
        cross({ runbook: [runbook], step: steps, outcome: ['succeeded', 'failed', 'rejected', 'timed_out'] }),
      ),
    ],
    [
      'incidentflow_runbook_runs_total',
      cross({
        runbook: RUNBOOKS,
        incident_type: TYPES,
        outcome: ['succeeded', 'failed', 'aborted', 'cancelled'],
      }),
    ],
    [
      'incidentflow_metric_events_total',
      cross({
        kind: [
          'opened',
          'acknowledged',
          'escalated',
          'paged',
          'approval',
          'step',
          'runbook',
          'resolved',
          'unknown',
        ],
        result: ['recorded', 'invalid'],
      }),
    ],
    [
      'incidentflow_metric_label_values_clipped_total',
      cross({
        label: ['incident_type', 'severity', 'service', 'level', 'channel', 'runbook', 'step', 'resolution'],
      }),
    ],
  ];

  it.each(expected)(
    'exports every known combination of %s at 0 right after creation',
    async (name, combos) => {
      const { scrape } = setup();
      const samples = samplesOf(await scrape(), name);
      expect(samples.map((s) => s.labels)).toEqual(expect.arrayContaining(combos));
      expect(samples).toHaveLength(combos.length);
      expect(samples.every((s) => s.value === 0)).toBe(true);
    },
  );

  it('exports every histogram bucket of every known incident type and severity at 0', async () => {
    const { scrape } = setup();
    const buckets = samplesOf(await scrape(), 'incidentflow_time_to_resolve_seconds_bucket');
    expect(buckets).toHaveLength(TYPES.length * SEVERITIES.length * (INCIDENT_DURATION_BUCKETS.length + 1));
    expect(buckets.every((s) => s.value === 0)).toBe(true);
  });

  it('exports no opened-incident series before the first incident, because service is open-ended', async () => {
    const { scrape } = setup();
    expect(samplesOf(await scrape(), 'incidentflow_incidents_opened_total')).toEqual([]);
  });
});

describe('createEngineMetrics.record', () => {
  const cases: Array<[string, IncidentMetricEvent, string, Record<string, string>]> = [
    [
      'opened',
      { kind: 'opened', incidentType: 'sla_miss', severity: 'P1', service: 'customer_etl' },
      'incidentflow_incidents_opened_total',
      { incident_type: 'sla_miss', severity: 'P1', service: 'customer_etl' },
    ],
    [
      'acknowledged',
      { kind: 'acknowledged', incidentType: 'sla_miss', severity: 'P2', ttaSeconds: 42 },
      'incidentflow_time_to_acknowledge_seconds_count',
      { incident_type: 'sla_miss', severity: 'P2' },
    ],
    [
      'escalated',
      { kind: 'escalated', incidentType: 'task_temporary_failure', severity: 'P2', level: 2 },
      'incidentflow_escalation_level_reached_total',
      { incident_type: 'task_temporary_failure', level: '2' },
    ],
    [
      'paged',
      { kind: 'paged', channel: 'sms', outcome: 'failed' },
      'incidentflow_pages_total',
      { channel: 'sms', outcome: 'failed' },
    ],
    [
      'approval',
      { kind: 'approval', runbook: 'restart_workers', decision: 'timed_out' },
      'incidentflow_approvals_total',
      { runbook: 'restart_workers', decision: 'timed_out' },
    ],
    [
      'step',
      { kind: 'step', runbook: 'restart_workers', step: 'restart', outcome: 'succeeded' },
      'incidentflow_runbook_step_outcomes_total',
      { runbook: 'restart_workers', step: 'restart', outcome: 'succeeded' },
    ],
    [
      'runbook',
      { kind: 'runbook', runbook: 'retry_task', incidentType: 'task_temporary_failure', outcome: 'aborted' },
      'incidentflow_runbook_runs_total',
      { runbook: 'retry_task', incident_type: 'task_temporary_failure', outcome: 'aborted' },
    ],
    [
      'resolved',
      {
        kind: 'resolved',
        incidentType: 'sla_miss',
        severity: 'P1',
        service: 'customer_etl',
        resolution: 'runbook',
        ttrSeconds: 3600,
        highestLevel: 2,
      },
      'incidentflow_incidents_resolved_total',
      { incident_type: 'sla_miss', severity: 'P1', resolution: 'runbook' },
    ],
  ];

  it.each(cases)('counts one %s event in its metric', async (kind, event, name, labels) => {
    const { metrics, scrape } = setup();
    metrics.record(event);
    const samples = await scrape();
    expect(valueOf(samples, name, labels)).toBe(1);
    expect(valueOf(samples, 'incidentflow_metric_events_total', { kind, result: 'recorded' })).toBe(1);
  });

  it('observes the time to acknowledge in the buckets it falls in', async () => {
    const { metrics, scrape } = setup();
    metrics.record({ kind: 'acknowledged', incidentType: 'sla_miss', severity: 'P1', ttaSeconds: 400 });
    const samples = await scrape();
    const bucket = (le: string) =>
      valueOf(samples, 'incidentflow_time_to_acknowledge_seconds_bucket', {
        incident_type: 'sla_miss',
        severity: 'P1',
        le,
      });
    expect([bucket('300'), bucket('600'), bucket('+Inf')]).toEqual([0, 1, 1]);
    expect(
      valueOf(samples, 'incidentflow_time_to_acknowledge_seconds_sum', {
        incident_type: 'sla_miss',
        severity: 'P1',
      }),
    ).toBe(400);
  });

  it('observes the time to resolve of a resolved incident in days-long buckets', async () => {
    const { metrics, scrape } = setup();
    metrics.record({
      kind: 'resolved',
      incidentType: 'sla_miss',
      severity: 'P3',
      service: 'orders',
      resolution: 'manual',
      ttrSeconds: 90_000,
      highestLevel: 0,
    });
    const samples = await scrape();
    const bucket = (le: string) =>
      valueOf(samples, 'incidentflow_time_to_resolve_seconds_bucket', {
        incident_type: 'sla_miss',
        severity: 'P3',
        le,
      });
    expect([bucket('86400'), bucket('259200')]).toEqual([0, 1]);
    expect(
      valueOf(samples, 'incidentflow_time_to_resolve_seconds_sum', {
        incident_type: 'sla_miss',
        severity: 'P3',
      }),
    ).toBe(90_000);
  });

  it('counts an invalid event under its claimed kind', async () => {
    const { metrics, scrape } = setup();
    metrics.recordInvalid('paged');
    expect(
      valueOf(await scrape(), 'incidentflow_metric_events_total', { kind: 'paged', result: 'invalid' }),
    ).toBe(1);
  });
});

describe('createEngineMetrics cardinality guard', () => {
  const clipped = (samples: Sample[], label: string) =>
    valueOf(samples, 'incidentflow_metric_label_values_clipped_total', { label });

  it('clips an unknown severity to other and counts the clipping', async () => {
    const { metrics, scrape } = setup();
    metrics.record({ kind: 'opened', incidentType: 'sla_miss', severity: 'sev9', service: 'etl' });
    const samples = await scrape();
    expect(
      valueOf(samples, 'incidentflow_incidents_opened_total', {
        incident_type: 'sla_miss',
        severity: 'other',
        service: 'etl',
      }),
    ).toBe(1);
    expect(clipped(samples, 'severity')).toBe(1);
  });

  it('admits services up to the limit and clips the next ones to other', async () => {
    const { metrics, scrape } = setup({ maxServices: 2 });
    for (const service of ['a', 'b', 'c', 'a'])
      metrics.record({ kind: 'opened', incidentType: 'sla_miss', severity: 'P1', service });
    const samples = await scrape();
    const opened = samplesOf(samples, 'incidentflow_incidents_opened_total').map((s) => [
      s.labels.service,
      s.value,
    ]);
    expect(opened).toEqual([
      ['a', 2],
      ['b', 1],
      ['other', 1],
    ]);
    expect(clipped(samples, 'service')).toBe(1);
  });

  it('clips a service that is not an identifier', async () => {
    const { metrics, scrape } = setup();
    metrics.record({
      kind: 'opened',
      incidentType: 'sla_miss',
      severity: 'P1',
      service: 'DROP TABLE "x"; --',
    });
    const services = samplesOf(await scrape(), 'incidentflow_incidents_opened_total').map(
      (s) => s.labels.service,
    );
    expect(services).toEqual(['other']);
  });

  it('admits a well-formed unknown incident type up to the limit, then clips', async () => {
    const { metrics, scrape } = setup({ maxExtraIncidentTypes: 1 });
    for (const incidentType of ['airflow_scheduler_down', 'dag_duration_anomaly'])
      metrics.record({ kind: 'escalated', incidentType, severity: 'P1', level: 1 });
    const samples = await scrape();
    expect(
      valueOf(samples, 'incidentflow_escalation_level_reached_total', {
        incident_type: 'airflow_scheduler_down',
        level: '1',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'incidentflow_escalation_level_reached_total', { incident_type: 'other', level: '1' }),
    ).toBe(1);
  });

  it.each<[string, IncidentMetricEvent, string, Record<string, string>]>([
    [
      'level',
      { kind: 'escalated', incidentType: 'sla_miss', severity: 'P1', level: 9 },
      'incidentflow_escalation_level_reached_total',
      { incident_type: 'sla_miss', level: 'other' },
    ],
    [
      'channel',
      { kind: 'paged', channel: 'carrier_pigeon', outcome: 'sent' },
      'incidentflow_pages_total',
      { channel: 'other', outcome: 'sent' },
    ],
    [
      'runbook',
      { kind: 'approval', runbook: 'deleted_runbook', decision: 'approve' },
      'incidentflow_approvals_total',
      { runbook: 'other', decision: 'approve' },
    ],
    [
      'step',
      { kind: 'step', runbook: 'restart_workers', step: 'not_a_step', outcome: 'failed' },
      'incidentflow_runbook_step_outcomes_total',
      { runbook: 'restart_workers', step: 'other', outcome: 'failed' },
    ],
    [
      'resolution',
      {
        kind: 'resolved',
        incidentType: 'sla_miss',
        severity: 'P1',
        service: 'x',
        resolution: 'magic',
        ttrSeconds: 1,
        highestLevel: 1,
      },
      'incidentflow_incidents_resolved_total',
      { incident_type: 'sla_miss', severity: 'P1', resolution: 'other' },
    ],
  ])('clips an unknown %s to other', async (label, event, name, labels) => {
    const { metrics, scrape } = setup();
    metrics.record(event);
    const samples = await scrape();
    expect(valueOf(samples, name, labels)).toBe(1);
    expect(clipped(samples, label)).toBe(1);
  });

  it('clips the step of an unknown runbook together with the runbook', async () => {
    const { metrics, scrape } = setup();
    metrics.record({ kind: 'step', runbook: 'ghost', step: 'check', outcome: 'succeeded' });
    const samples = await scrape();
    expect(
      valueOf(samples, 'incidentflow_runbook_step_outcomes_total', {
        runbook: 'other',
        step: 'other',
        outcome: 'succeeded',
      }),
    ).toBe(1);
  });
});

import { Registry } from 'prom-client';
import { createMetricsActivities } from '../../../src/activities/metrics.activities';
import { createEngineMetrics } from '../../../src/metrics/engine-metrics';
import { parseMetrics, valueOf } from '../../helpers/metrics-text';

function setup() {
  const registry = new Registry();
  const metrics = createEngineMetrics(registry, {
    incidentTypes: ['sla_miss'],
    severities: ['P1', 'P2'],
    runbooks: {},
    channels: ['slack'],
  });
  const { recordIncidentMetrics } = createMetricsActivities(metrics);
  const events = async (kind: string, result: 'recorded' | 'invalid') =>
    valueOf(parseMetrics(await registry.metrics()), 'incidentflow_metric_events_total', { kind, result });
  return { recordIncidentMetrics, events, registry };
}

const opened = { kind: 'opened', incidentType: 'sla_miss', severity: 'P1', service: 'customer_etl' };

describe('recordIncidentMetrics', () => {
  it('records every event of a valid batch', async () => {
    const { recordIncidentMetrics, events, registry } = setup();
    const result = await recordIncidentMetrics({
      events: [
        { kind: 'opened', incidentType: 'sla_miss', severity: 'P1', service: 'customer_etl' },
        { kind: 'paged', channel: 'slack', outcome: 'sent' },
      ],
    });
    expect(result).toEqual({ recorded: 2, invalid: 0 });
    expect(await events('opened', 'recorded')).toBe(1);
    const samples = parseMetrics(await registry.metrics());
    expect(valueOf(samples, 'incidentflow_pages_total', { channel: 'slack', outcome: 'sent' })).toBe(1);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'opened'],
    ['an object without events', {}],
    ['events that are not a list', { events: { kind: 'opened' } }],
  ])('counts a batch that is %s as one invalid event of unknown kind', async (_what, input) => {
    const { recordIncidentMetrics, events } = setup();
    const result = await recordIncidentMetrics(input as never);
    expect(result).toEqual({ recorded: 0, invalid: 1 });
    expect(await events('unknown', 'invalid')).toBe(1);
  });

  it.each<[string, unknown, string]>([
    ['an unknown kind', { kind: 'exploded' }, 'unknown'],
    ['a missing kind', { incidentType: 'sla_miss' }, 'unknown'],
    [
      'a negative time to acknowledge',
      { kind: 'acknowledged', incidentType: 'a', severity: 'P1', ttaSeconds: -1 },
      'acknowledged',
    ],
    [
      'a time to resolve that is not a number',
      { ...opened, kind: 'resolved', resolution: 'auto', ttrSeconds: '5', highestLevel: 0 },
      'resolved',
    ],
    ['a level 0 escalation', { kind: 'escalated', incidentType: 'a', severity: 'P1', level: 0 }, 'escalated'],
    ['a fractional level', { kind: 'escalated', incidentType: 'a', severity: 'P1', level: 1.5 }, 'escalated'],
    ['an unknown page outcome', { kind: 'paged', channel: 'slack', outcome: 'lost' }, 'paged'],
    ['an unknown approval decision', { kind: 'approval', runbook: 'r', decision: 'maybe' }, 'approval'],
    ['an empty service', { ...opened, service: '' }, 'opened'],
    ['a missing step id', { kind: 'step', runbook: 'r', outcome: 'failed' }, 'step'],
    ['a null event', null, 'unknown'],
  ])('drops %s and counts it as invalid under its claimed kind', async (_what, event, kind) => {
    const { recordIncidentMetrics, events } = setup();
    const result = await recordIncidentMetrics({ events: [event] } as never);
    expect(result).toEqual({ recorded: 0, invalid: 1 });
    expect(await events(kind, 'invalid')).toBe(1);
  });

  it('records the valid events of a batch that also holds invalid ones', async () => {
    const { recordIncidentMetrics, events } = setup();
    const result = await recordIncidentMetrics({
      events: [opened, { kind: 'paged', channel: 'slack', outcome: 'lost' }, opened],
    } as never);
    expect(result).toEqual({ recorded: 2, invalid: 1 });
    expect(await events('opened', 'recorded')).toBe(2);
    expect(await events('paged', 'invalid')).toBe(1);
  });
});

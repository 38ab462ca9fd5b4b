import { resolve } from 'node:path';
import { loadConfig } from '../../../src/config/load-config';
import { knownEngineLabels } from '../../../src/metrics/known-labels';

const config = loadConfig(resolve(__dirname, '../../../config'));

describe('knownEngineLabels from the shipped config', () => {
  const known = knownEngineLabels(config);

  it('knows the incident types routing and runbooks name, including template fallbacks', () => {
    expect(known.incidentTypes).toEqual([
      'connection_pool_exhaustion',
      'dag_deployment_regression',
      'data_quality_violation',
      'generic',
      'sla_miss',
      'task_temporary_failure',
    ]);
  });

  it('knows severities P1 to P4 and every paging channel', () => {
    expect([known.severities, known.channels]).toEqual([
      ['P1', 'P2', 'P3', 'P4'],
      ['slack', 'sms', 'phone', 'pagerduty', 'webhook'],
    ]);
  });

  it('knows every runbook with its step ids in order', () => {
    expect(Object.keys(known.runbooks)).toEqual(Object.keys(config.runbooks).sort());
    expect(known.runbooks.task_temporary_failure).toEqual(
      config.runbooks.task_temporary_failure!.steps.map((s) => s.id),
    );
  });

  it('knows the levels of the deepest escalation policy', () => {
    const deepest = Math.max(...Object.values(config.policies.policies).map((p) => p.levels.length));
    expect(known.escalationLevels).toBe(deepest);
  });
});

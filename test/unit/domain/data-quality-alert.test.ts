import { resolve } from 'node:path';
import { loadConfig } from '../../../src/config/load-config';
import {
  CheckSet,
  type CheckSetResult,
  evaluateCheckSet,
  type Outcome,
} from '../../../src/domain/data-quality';
import {
  type DataQualityAlertPlan,
  dataQualityAlert,
  dataQualityAlertFingerprint,
  dataQualityGenericAlert,
  planDataQualityAlerts,
} from '../../../src/domain/data-quality-alert';
import { GenericAlert } from '../../../src/domain/generic-alert';
import { incidentWorkflowId, routeAlert } from '../../../src/domain/routing';

const routing = loadConfig(resolve(__dirname, '../../../config')).routing;

const customers = CheckSet.parse({
  name: 'customers_daily',
  data_source: { connection_env: 'WAREHOUSE_DATABASE_URL' },
  table: 'public.customers',
  schedule: '*/30 * * * *',
  owners: [{ person: 'alice' }, { slack_channel: '#customer-data' }],
  dag_id: 'customer_etl',
  downstream_dags: ['customer_marts', 'customer_ml_features'],
  severity: 'P2',
  checks: ['row_count between 1000 and 5000', 'freshness(updated_at) < 2h'],
});

const run = {
  runKey: 'schedule:2026-05-01T10:00:00.000Z',
  startedAt: '2026-05-01T10:00:01.000Z',
  finishedAt: '2026-05-01T10:00:02.000Z',
};
const columns = [{ name: 'updated_at', type: 'timestamp with time zone' }];

function resultWith(rowCount: number): CheckSetResult {
  return evaluateCheckSet(
    customers,
    {
      ok: true,
      measurements: { columns, rowCount, freshness: { updated_at: { ageMs: 60_000, hasRows: true } } },
    },
    {},
    run,
  );
}

const failed = resultWith(850);
const passed = resultWith(2000);
const errored = evaluateCheckSet(
  customers,
  { ok: false, error: { kind: 'unreachable', message: 'connection refused' } },
  {},
  run,
);

describe('planDataQualityAlerts', () => {
  it.each<[Outcome, Outcome[], DataQualityAlertPlan[]]>([
    ['fail', [], [{ kind: 'violation', status: 'firing' }]],
    ['fail', ['fail'], [{ kind: 'violation', status: 'firing' }]],
    [
      'fail',
      ['error', 'pass'],
      [
        { kind: 'violation', status: 'firing' },
        { kind: 'error', status: 'resolved' },
      ],
    ],
    ['pass', [], []],
    ['pass', ['pass', 'fail'], []],
    ['pass', ['fail'], [{ kind: 'violation', status: 'resolved' }]],
    ['warn', ['fail'], [{ kind: 'violation', status: 'resolved' }]],
    ['warn', [], []],
    ['warn', ['warn'], []],
    [
      'pass',
      ['error', 'error', 'fail'],
      [
        { kind: 'violation', status: 'resolved' },
        { kind: 'error', status: 'resolved' },
      ],
    ],
    ['pass', ['error', 'pass'], [{ kind: 'error', status: 'resolved' }]],
    ['error', [], [{ kind: 'error', status: 'firing' }]],
    ['error', ['fail'], [{ kind: 'error', status: 'firing' }]],
    ['error', ['error'], [{ kind: 'error', status: 'firing' }]],
  ])('plans %s after %j as %j', (outcome, earlier, plan) => {
    expect(planDataQualityAlerts(outcome, earlier)).toEqual(plan);
  });
});

describe('dataQualityGenericAlert', () => {
  it('builds a valid generic alert with the check set labels for a failed run', () => {
    const alert = dataQualityGenericAlert(failed, customers, { kind: 'violation', status: 'firing' });
    expect(GenericAlert.parse(alert)).toEqual(alert);
    expect(alert).toEqual({
      name: 'DataQualityCheckFailed',
      source: 'data_quality',
      status: 'firing',
      severity: 'P2',
      labels: {
        incident_type: 'data_quality_violation',
        check_set: 'customers_daily',
        table: 'public.customers',
        service: 'customer_etl',
        outcome: 'fail',
        dag_id: 'customer_etl',
        downstream_dags: 'customer_marts,customer_ml_features',
        check: 'row_count between 1000 and 5000',
        owner_channel: '#customer-data',
      },
      annotations: { run_key: 'schedule:2026-05-01T10:00:00.000Z' },
      summary:
        'customers_daily on public.customers: 1 of 2 checks failed: row_count 850 is not between 1000 and 5000',
      description: 'fail: row_count 850 is not between 1000 and 5000',
      fingerprint: dataQualityAlertFingerprint('customers_daily', 'violation'),
      starts_at: '2026-05-01T10:00:01.000Z',
    });
  });

  it('resolves with the same fingerprint and ends when the passing run finished', () => {
    const alert = dataQualityGenericAlert(passed, customers, { kind: 'violation', status: 'resolved' });
    expect(alert).toMatchObject({
      status: 'resolved',
      fingerprint: dataQualityAlertFingerprint('customers_daily', 'violation'),
      ends_at: '2026-05-01T10:00:02.000Z',
      summary: 'customers_daily on public.customers: all 2 checks passed',
    });
    expect(alert.labels.check).toBeUndefined();
  });

  it('raises a P3 alert of its own type and dedup key when the checks could not run', () => {
    const alert = dataQualityGenericAlert(errored, customers, { kind: 'error', status: 'firing' });
    expect(alert).toMatchObject({
      name: 'DataQualityCheckError',
      severity: 'P3',
      labels: { incident_type: 'data_quality_check_error', dedup_key: 'dq_error/customers_daily' },
      summary: 'customers_daily on public.customers: could not run: connection refused',
      fingerprint: dataQualityAlertFingerprint('customers_daily', 'error'),
    });
  });

  it('labels by table and defaults to P1 when the check set left the configuration', () => {
    const alert = dataQualityGenericAlert(failed, undefined, { kind: 'violation', status: 'firing' });
    expect(alert.severity).toBe('P1');
    expect(alert.labels).toEqual({
      incident_type: 'data_quality_violation',
      check_set: 'customers_daily',
      table: 'public.customers',
      service: 'public.customers',
      outcome: 'fail',
      check: 'row_count between 1000 and 5000',
    });
  });

  it('gives each check set and kind a fingerprint of its own', () => {
    const prints = new Set([
      dataQualityAlertFingerprint('a', 'violation'),
      dataQualityAlertFingerprint('a', 'error'),
      dataQualityAlertFingerprint('b', 'violation'),
    ]);
    expect(prints.size).toBe(3);
    expect(dataQualityAlertFingerprint('a', 'violation')).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('routing of data-quality alerts (shipped config/routing.yaml)', () => {
  it('routes a failed run to a P1 data_quality_violation incident keyed by the check set', () => {
    const alert = dataQualityAlert(
      failed,
      customers,
      { kind: 'violation', status: 'firing' },
      run.finishedAt,
    );
    const decision = routeAlert(alert.labels, routing);
    expect(decision).toMatchObject({
      rule: 'data-quality',
      incidentType: 'data_quality_violation',
      severity: 'P1',
      service: 'public.customers',
      dedupKey: 'dq/customers_daily',
      runbook: 'data_quality_violation',
    });
    expect(incidentWorkflowId(decision)).toBe('incident:public.customers:dq/customers_daily');
  });

  it('routes a run that could not run to a separate P3 incident without a runbook', () => {
    const alert = dataQualityAlert(errored, customers, { kind: 'error', status: 'firing' }, run.finishedAt);
    expect(routeAlert(alert.labels, routing)).toEqual({
      rule: null,
      incidentType: 'data_quality_check_error',
      severity: 'P3',
      service: 'customer_etl',
      dedupKey: 'dq_error/customers_daily',
      runbook: null,
      escalationPolicy: 'default',
      slackChannel: null,
    });
  });
});

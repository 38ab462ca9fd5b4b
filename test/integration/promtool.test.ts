import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config';
import { type RouteDecision, routeAlert } from '../../src/domain/routing';
import { createApiCollectors } from '../../src/metrics/collectors';
import { createDataQualityMetrics } from '../../src/metrics/data-quality-metrics';
import { createEngineMetrics } from '../../src/metrics/engine-metrics';
import { knownEngineLabels } from '../../src/metrics/known-labels';
import { createApiMetrics } from '../../src/metrics/registry';
import { shippedConfig } from '../helpers/app';
import {
  alertRules,
  DEPLOY_DIR,
  dashboardQueries,
  dashboards,
  loadRuleGroups,
  panelsOf,
  renderRuleLabels,
  ruleFiles,
  ruleTestFiles,
} from '../helpers/deploy-files';
import { runTool } from '../helpers/observability-tools';

const prometheusConfig = join(DEPLOY_DIR, 'prometheus/prometheus.yml');
const alertmanagerConfig = join(DEPLOY_DIR, 'alertmanager/alertmanager.yml');
const statsdMapping = join(DEPLOY_DIR, 'statsd/statsd-mapping.yml');
const routing = loadConfig(resolve(__dirname, '../../config')).routing;

const REQUIRED_LABELS = ['severity', 'incident_type', 'service', 'dedup_key', 'runbook'] as const;

/**
 * incidentflow metrics the rules and dashboards read that the API does not export yet (the data-quality
 * checks and the incident/on-call views will). Keep in sync with docs/observability.md.
 */

describe('promtool and amtool accept the shipped files', () => {
  it.each(ruleFiles().map((f) => [basename(f), f]))('promtool check rules %s succeeds', (_name, file) => {
    const rules = loadRuleGroups(file).reduce((n, g) => n + g.rules.length, 0);
    const result = runTool('promtool', ['check', 'rules', file]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`SUCCESS: ${rules} rules found`);
    expect(result.status).toBe(0);
  });

  it.each(ruleTestFiles().map((f) => [basename(f), f]))('promtool test rules %s succeeds', (_name, file) => {
    const result = runTool('promtool', ['test', 'rules', file]);
    expect(result.stdout + result.stderr).not.toContain('FAILED');
    expect(result.stdout).toMatch(/Unit Testing: +.*\n +SUCCESS/);
    expect(result.status).toBe(0);
  });

  it('promtool test rules fails on an expectation the rules do not meet', () => {
    // Control for the test above: a copy of a shipped test with one expected label changed must fail.
    const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
    try {
      const original = join(DEPLOY_DIR, 'prometheus/tests/airflow.test.yml');
      const broken = readFileSync(original, 'utf8')
        .replace('dedup_key: failure_rate/customer_etl', 'dedup_key: failure_rate/somebody_else')
        .replace('../rules/airflow.rules.yml', join(DEPLOY_DIR, 'prometheus/rules/airflow.rules.yml'));
      const file = join(dir, 'broken.test.yml');
      writeFileSync(file, broken);
      const result = runTool('promtool', ['test', 'rules', file]);
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toContain('FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promtool check config accepts prometheus.yml and finds both rule files', () => {
    const result = runTool('promtool', ['check', 'config', prometheusConfig]);
    expect(result.stdout).toContain(`SUCCESS: ${ruleFiles().length} rule files found`);
    expect(result.stdout).toContain('is valid prometheus config file syntax');
    expect(result.status).toBe(0);
  });

  it('amtool check-config accepts alertmanager.yml', () => {
    const result = runTool('amtool', ['check-config', alertmanagerConfig]);
    expect(result.stdout).toContain('SUCCESS');
    expect(result.stdout).toContain('2 receivers');
    expect(result.stdout).toContain('3 inhibit rules');
    expect(result.status).toBe(0);
  });
});

describe('alert rules carry what incidentflow routes on', () => {
  const alerts = alertRules();

  it('ships the alerts the docs describe', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'AirflowDagImportErrors',
        'AirflowDagRunDurationAnomaly',
        'AirflowDagRunOverBudget',
        'AirflowPoolExhausted',
        'AirflowSchedulerCriticalSectionSlow',
        'AirflowSchedulerHeartbeatMissing',
        'AirflowSlaMiss',
        'AirflowTaskFailureRateHigh',
        'AirflowTaskRepeatedFailures',
        'DataFreshnessViolation',
        'IncidentflowActivityTaskLatencyHigh',
        'IncidentflowApiDown',
        'IncidentflowApiErrors',
        'IncidentflowIngestRejected',
        'IncidentflowIngestUnavailable',
        'IncidentflowWebhookDeliveryFailing',
        'IncidentflowWorkerDown',
        'IncidentflowWorkerNotPolling',
        'IncidentflowWorkflowTaskLatencyHigh',
      ].sort(),
    );
  });

  it.each(alerts.map((a) => [a.alert, a]))(
    '%s has severity P1..P4, incident_type, service, dedup_key, runbook, summary and description',
    (_name, rule) => {
      const labels = rule.labels ?? {};
      for (const name of REQUIRED_LABELS) expect(labels[name]).toEqual(expect.stringMatching(/\S/));
      expect(labels.severity).toMatch(/^P[1-4]$/);
      expect(rule.annotations?.summary).toEqual(expect.stringMatching(/\S/));
      expect(rule.annotations?.description).toEqual(expect.stringMatching(/\S/));
    },
  );

  it.each(alerts.map((a) => [a.alert, a]))(
    '%s is notify=direct exactly when it is a self-health alert',
    (_n, r) => {
      const self = basename(r.file) === 'incidentflow-self.rules.yml';
      expect(r.labels?.notify === 'direct').toBe(self);
    },
  );

  it.each(alerts.map((a) => [a.alert]))(
    '%s has promtool cases where it fires and where it does not',
    (name) => {
      const cases = ruleTestFiles().flatMap((file) => {
        const doc = parse(readFileSync(file, 'utf8')) as {
          tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
        };
        return doc.tests.flatMap((t) => t.alert_rule_test ?? []).filter((c) => c.alertname === name);
      });
      expect(cases.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true);
      expect(cases.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true);
    },
  );
});

describe('config/routing.yaml routes every pipeline alert to the intended incident', () => {
  const series = {
    dag_id: 'customer_etl',
    task_id: 'transform',
    pool: 'default_pool',
    check_set: 'customers',
    table: 'customers',
  };
  type Expected = Pick<
    RouteDecision,
    'rule' | 'incidentType' | 'severity' | 'service' | 'dedupKey' | 'runbook'
  >;
  const table: Array<[string, Expected]> = [
    [
      'AirflowTaskFailureRateHigh',
      {
        rule: 'airflow-failure-rate-spike',
        incidentType: 'task_temporary_failure',
        severity: 'P2',
        service: 'customer_etl',
        dedupKey: 'failure_rate/customer_etl',
        runbook: 'task_temporary_failure',
      },
    ],
    [
      'AirflowTaskRepeatedFailures',
      {
        rule: null,
        incidentType: 'task_temporary_failure',
        severity: 'P2',
        service: 'customer_etl',
        dedupKey: 'task_failure/customer_etl/transform',
        runbook: 'task_temporary_failure',
      },
    ],
    [
      'AirflowSlaMiss',
      {
        rule: 'airflow-sla-miss',
        incidentType: 'sla_miss',
        severity: 'P1',
        service: 'customer_etl',
        dedupKey: 'sla/customer_etl',
        runbook: 'sla_miss',
      },
    ],
    [
      'AirflowDagRunOverBudget',
      {
        rule: 'airflow-sla-miss',
        incidentType: 'sla_miss',
        severity: 'P1',
        service: 'customer_etl',
        dedupKey: 'sla/customer_etl',
        runbook: 'sla_miss',
      },
    ],
    [
      'AirflowDagRunDurationAnomaly',
      {
        rule: null,
        incidentType: 'dag_duration_anomaly',
        severity: 'P3',
        service: 'customer_etl',
        dedupKey: 'duration_anomaly/customer_etl',
        runbook: 'sla_miss',
      },
    ],
    [
      'AirflowSchedulerCriticalSectionSlow',
      {
        rule: null,
        incidentType: 'airflow_scheduler_degradation',
        severity: 'P3',
        service: 'airflow-scheduler',
        dedupKey: 'scheduler/critical_section',
        runbook: 'manual',
      },
    ],
    [
      'AirflowSchedulerHeartbeatMissing',
      {
        rule: null,
        incidentType: 'airflow_scheduler_down',
        severity: 'P1',
        service: 'airflow-scheduler',
        dedupKey: 'scheduler/heartbeat',
        runbook: 'manual',
      },
    ],
    [
      'AirflowDagImportErrors',
      {
        rule: null,
        incidentType: 'dag_deployment_regression',
        severity: 'P3',
        service: 'airflow-dag-processor',
        dedupKey: 'dag_import_errors',
        runbook: 'dag_deployment_regression',
      },
    ],
    [
      'AirflowPoolExhausted',
      {
        rule: null,
        incidentType: 'connection_pool_exhaustion',
        severity: 'P3',
        service: 'pool/default_pool',
        dedupKey: 'pool/default_pool',
        runbook: 'connection_pool_exhaustion',
      },
    ],
    [
      'DataFreshnessViolation',
      {
        rule: 'data-quality',
        incidentType: 'data_quality_violation',
        severity: 'P1',
        service: 'customers',
        dedupKey: 'dq/customers',
        runbook: 'data_quality_violation',
      },
    ],
  ];

  function firedLabels(name: string): Record<string, string> {
    const rule = alertRules().find((a) => a.alert === name);
    if (!rule) throw new Error(`no alert rule ${name}`);
    return { ...series, ...renderRuleLabels(rule.labels ?? {}, series), alertname: name };
  }

  it('covers every alert that goes to incidentflow', () => {
    const pipeline = alertRules()
      .filter((a) => a.labels?.notify !== 'direct')
      .map((a) => a.alert);
    expect(table.map(([name]) => name).sort()).toEqual(pipeline.sort());
  });

  it.each(table)('%s', (name, expected) => {
    expect(routeAlert(firedLabels(name), routing)).toMatchObject(expected);
  });

  it('opens the same incident for repeated task failures as the Airflow failure callback', () => {
    const callback = routeAlert(
      { alertname: 'AirflowTaskFailed', dag_id: 'customer_etl', task_id: 'transform', severity: 'P2' },
      routing,
    );
    const repeated = routeAlert(firedLabels('AirflowTaskRepeatedFailures'), routing);
    expect([repeated.service, repeated.dedupKey]).toEqual([callback.service, callback.dedupKey]);
  });

  it.each(
    alertRules().map((a) => [a.alert, a.labels?.notify === 'direct' ? 'platform-direct' : 'incidentflow']),
  )('Alertmanager routes %s to %s', (name, receiver) => {
    const labels = Object.entries(firedLabels(name)).map(([k, v]) => `${k}=${v}`);
    const result = runTool('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${alertmanagerConfig}`,
      `--verify.receivers=${receiver}`,
      ...labels,
    ]);
    expect(result.stdout.trim()).toBe(receiver);
    expect(result.status).toBe(0);
  });
});

describe('metric names agree between statsd mapping, rules, dashboards and the API', () => {
  const mapping = parse(readFileSync(statsdMapping, 'utf8')) as {
    mappings: Array<{ name: string; action?: string }>;
  };
  const mapped = new Set(mapping.mappings.filter((m) => m.action !== 'drop').map((m) => m.name));
  const exprs = [
    ...ruleFiles().flatMap((f) => loadRuleGroups(f).flatMap((g) => g.rules.map((r) => r.expr))),
    ...dashboardQueries().map((q) => q.expr),
  ];
  const referenced = (prefix: string): string[] => {
    const names = exprs.flatMap((e) =>
      [...e.matchAll(new RegExp(`(?<![:\\w])${prefix}[a-z0-9_]*`, 'g'))].map((m) =>
        m[0].replace(/_(bucket|sum|count)$/, ''),
      ),
    );
    return [...new Set(names)].sort();
  };

  it.each(referenced('airflow_').map((n) => [n]))('%s is produced by the statsd_exporter mapping', (name) => {
    expect([...mapped]).toContain(name);
  });

  it('every incidentflow metric the rules and dashboards read is exported by the embedded process', () => {
    // The registry of `--role=all`: API, scrape-time collectors, engine and data-quality metrics.
    const registry = new Registry();
    createApiMetrics(registry);
    createApiCollectors(registry, {
      listOpenIncidents: () => Promise.resolve([]),
      oncall: () => shippedConfig.oncall,
    });
    createEngineMetrics(registry, knownEngineLabels(shippedConfig));
    createDataQualityMetrics(registry, Object.values(shippedConfig.checks));
    const exported = registry.getMetricsAsArray().map((m) => m.name);
    expect(referenced('incidentflow_').filter((n) => !exported.includes(n))).toEqual([]);
  });
});

describe('Grafana dashboards', () => {
  it.each(dashboards().map((d) => [basename(d.file), d.dashboard]))(
    '%s is a schema-39 dashboard whose panels all query the prometheus datasource',
    (_file, dashboard) => {
      expect(dashboard.schemaVersion).toBe(39);
      expect(dashboard.uid).toMatch(/^incidentflow-l[123]$/);
      const panels = panelsOf(dashboard);
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      for (const panel of panels) {
        expect(panel.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
        expect(panel.targets?.length).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
          expect(target.expr).toEqual(expect.stringMatching(/\S/));
        }
      }
    },
  );

  it('the L3 dashboard selects one DAG with a dag_id variable', () => {
    const l3 = dashboards().find((d) => d.dashboard.uid === 'incidentflow-l3')!.dashboard;
    expect(l3.templating.list.map((v) => v.name)).toEqual(['dag_id']);
    expect(panelsOf(l3).every((p) => (p.targets ?? []).every((t) => !/dag_id=~/.test(t.expr)))).toBe(true);
  });
});

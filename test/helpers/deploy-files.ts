import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/** The repository's `deploy/` folder (Prometheus rules, Alertmanager config, Grafana dashboards). */
export const DEPLOY_DIR = resolve(__dirname, '../../deploy');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<AlertRule | RecordingRule>;
}

function filesIn(dir: string, suffix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));
}

/** Every shipped rule file (`deploy/prometheus/rules/*.rules.yml`), absolute paths. */
export function ruleFiles(): string[] {
  return filesIn(join(DEPLOY_DIR, 'prometheus/rules'), '.rules.yml');
}

/** Every promtool unit-test file (`deploy/prometheus/tests/*.test.yml`), absolute paths. */
export function ruleTestFiles(): string[] {
  return filesIn(join(DEPLOY_DIR, 'prometheus/tests'), '.test.yml');
}

export function loadRuleGroups(file: string): RuleGroup[] {
  return (parse(readFileSync(file, 'utf8')) as { groups: RuleGroup[] }).groups;
}

export function isAlertRule(rule: AlertRule | RecordingRule): rule is AlertRule {
  return 'alert' in rule;
}

/** Every alerting rule of every shipped rule file, with the file it comes from. */
export function alertRules(): Array<AlertRule & { file: string }> {
  return ruleFiles().flatMap((file) =>
    loadRuleGroups(file).flatMap((g) => g.rules.filter(isAlertRule).map((r) => ({ ...r, file }))),
  );
}

/**
 * Renders the `{{ $labels.x }}` placeholders of alert rule labels the way Prometheus does, for a sample
 * series. Other template syntax is left as is (the shipped labels only use `$labels`).
 */
export function renderRuleLabels(
  labels: Record<string, string>,
  series: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [
      k,
      v.replace(
        /\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g,
        (_m, name: string) => series[name] ?? '',
      ),
    ]),
  );
}

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
  instant?: boolean;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
  current?: { value?: string | string[] };
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

/** The shipped Grafana dashboards (`deploy/grafana/dashboards/*.json`). */
export function dashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return filesIn(join(DEPLOY_DIR, 'grafana/dashboards'), '.json').map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(file, 'utf8')) as Dashboard,
  }));
}

/** Panels of a dashboard, rows flattened (rows themselves excluded). */
export function panelsOf(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  instant: boolean;
}

/** Every PromQL target of every shipped dashboard. */
export function dashboardQueries(): DashboardQuery[] {
  return dashboards().flatMap(({ dashboard }) =>
    panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((t) => ({
        dashboard: dashboard.uid,
        panel: panel.title,
        refId: t.refId,
        expr: t.expr,
        instant: t.instant === true,
      })),
    ),
  );
}

/**
 * Replaces Grafana variables in a query: dashboard variables by the given values, `$__rate_interval`,
 * `$__interval` and `$__range` by fixed windows that fit a short-lived test Prometheus.
 */
export function substituteGrafanaVariables(expr: string, values: Record<string, string>): string {
  const builtins: Record<string, string> = {
    __rate_interval: '1m',
    __interval: '15s',
    __range: '1h',
    __range_s: '3600',
  };
  return expr.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name: string) => {
    const value = builtins[name] ?? values[name];
    if (value === undefined) throw new Error(`no value for Grafana variable $${name} in: ${expr}`);
    return value;
  });
}

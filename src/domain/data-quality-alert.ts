/**
 * How a data-quality run becomes alerts (pure and workflow-safe). A failed check set raises the alert
 * `DataQualityCheckFailed`, which routing turns into a `data_quality_violation` incident (rule
 * `data-quality` in config/routing.yaml); a check set that could not run raises `DataQualityCheckError`
 * at P3 instead, so someone repairs the check without the data being declared bad. Both go through the
 * same generic-alert normalisation and incident starter as `POST /api/v1/alerts`.
 */
import type { Alert } from './alert';
import { type CheckSet, type CheckSetResult, type Outcome, summarizeCheckSetResult } from './data-quality';
import { alertFromGeneric, fingerprintOf, type GenericAlert } from './generic-alert';

/** Which of the two data-quality alerts. */
export type DataQualityAlertKind = 'violation' | 'error';

/** Alert names, as they appear in incidents, Slack and the tuning report. */
export const DATA_QUALITY_ALERT_NAMES: Readonly<Record<DataQualityAlertKind, string>> = {
  violation: 'DataQualityCheckFailed',
  error: 'DataQualityCheckError',
};

/** `incident_type` label of each alert. Only `violation` matches the `data-quality` routing rule. */
export const DATA_QUALITY_INCIDENT_TYPES: Readonly<Record<DataQualityAlertKind, string>> = {
  violation: 'data_quality_violation',
  error: 'data_quality_check_error',
};

/** Severity of the "could not run" alert: someone should fix the check, nobody needs paging at night. */
export const DATA_QUALITY_ERROR_SEVERITY = 'P3';

/** One alert to deliver for a run. */
export interface DataQualityAlertPlan {
  kind: DataQualityAlertKind;
  status: 'firing' | 'resolved';
}

/**
 * Decides which alerts a run delivers, from its outcome and the outcomes of the earlier runs of the same
 * check set (newest first):
 * - `fail` fires the violation alert (every failing run re-asserts it, so an incident closed while the
 *   data is still bad opens again);
 * - `pass` or `warn` resolves the violation alert when the latest earlier run that looked at the data
 *   (`error` runs did not) failed; a warning alone never opens anything;
 * - `error` fires the "could not run" alert and leaves the violation alert as it is (nothing is known);
 * - any outcome other than `error` resolves the "could not run" alert when the run before was `error`.
 */
export function planDataQualityAlerts(outcome: Outcome, earlier: readonly Outcome[]): DataQualityAlertPlan[] {
  if (outcome === 'error') return [{ kind: 'error', status: 'firing' }];
  const plan: DataQualityAlertPlan[] = [];
  if (outcome === 'fail') plan.push({ kind: 'violation', status: 'firing' });
  else if (earlier.find((o) => o !== 'error') === 'fail')
    plan.push({ kind: 'violation', status: 'resolved' });
  if (earlier[0] === 'error') plan.push({ kind: 'error', status: 'resolved' });
  return plan;
}

/** Fingerprint of a check set's alert: stable per check set and kind, across firing and resolved. */
export function dataQualityAlertFingerprint(checkSet: string, kind: DataQualityAlertKind): string {
  return fingerprintOf(`data_quality/${kind}/${checkSet}`);
}

const MAX_SUMMARY = 1024;
const MAX_DESCRIPTION = 8192;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The configuration a data-quality alert reads; absent when the check set left the config meanwhile. */
export type DataQualityAlertConfig = Pick<
  CheckSet,
  'name' | 'dag_id' | 'downstream_dags' | 'severity' | 'owners'
>;

/**
 * The generic alert (`POST /api/v1/alerts` shape) for a run. Labels: `incident_type`, `check_set`,
 * `table` (`schema.table`), `dag_id`, `downstream_dags` (comma-joined), `service` (the producing DAG,
 * else the table), `outcome`, and for a firing violation the first failed `check` and the owners'
 * `owner_channel` (read by the `data_quality_violation` runbook). The error alert carries
 * `dedup_key: dq_error/<check_set>` so it opens its own incident.
 */
export function dataQualityGenericAlert(
  result: CheckSetResult,
  checkSet: DataQualityAlertConfig | undefined,
  plan: DataQualityAlertPlan,
): GenericAlert {
  const labels: Record<string, string> = {
    incident_type: DATA_QUALITY_INCIDENT_TYPES[plan.kind],
    check_set: result.checkSet,
    table: result.table,
    service: checkSet?.dag_id ?? result.table,
    outcome: result.outcome,
  };
  if (checkSet?.dag_id) labels.dag_id = checkSet.dag_id;
  if (checkSet && checkSet.downstream_dags.length > 0)
    labels.downstream_dags = checkSet.downstream_dags.join(',');
  if (plan.kind === 'error') labels.dedup_key = `dq_error/${result.checkSet}`;
  if (plan.kind === 'violation' && plan.status === 'firing') {
    const failed = result.results.find((r) => r.outcome === 'fail');
    if (failed) labels.check = failed.name;
    const channel = checkSet?.owners.find((o) => o.slack_channel !== undefined)?.slack_channel;
    if (channel) labels.owner_channel = channel;
  }
  const bad = result.results.filter((r) => r.outcome !== 'pass');
  const description = bad.map((r) => `${r.outcome}: ${r.message}`).join('\n');
  return {
    name: DATA_QUALITY_ALERT_NAMES[plan.kind],
    source: 'data_quality',
    status: plan.status,
    severity: plan.kind === 'error' ? DATA_QUALITY_ERROR_SEVERITY : (checkSet?.severity ?? 'P1'),
    labels,
    annotations: { run_key: result.runKey },
    summary: clip(summarizeCheckSetResult(result), MAX_SUMMARY),
    ...(description ? { description: clip(description, MAX_DESCRIPTION) } : {}),
    fingerprint: dataQualityAlertFingerprint(result.checkSet, plan.kind),
    starts_at: result.startedAt,
    ...(plan.status === 'resolved' ? { ends_at: result.finishedAt } : {}),
  };
}

/** The normalised alert handed to the incident starter (as `POST /api/v1/alerts` would build it). */
export function dataQualityAlert(
  result: CheckSetResult,
  checkSet: DataQualityAlertConfig | undefined,
  plan: DataQualityAlertPlan,
  nowIso: string,
): Alert {
  return alertFromGeneric(dataQualityGenericAlert(result, checkSet, plan), nowIso);
}

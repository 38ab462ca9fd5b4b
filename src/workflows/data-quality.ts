import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RaisedDataQualityAlert } from '../activities/data-quality-alert.activities';
import { type CheckSetResult, summarizeCheckSetResult } from '../domain/data-quality';
import { DATA_QUALITY_ALERT_NAMES, planDataQualityAlerts } from '../domain/data-quality-alert';
import { FINAL_ERROR_TYPES } from '../domain/errors';

/** Measuring a table: a few statements with a 15 s statement timeout each; retried for store/transport errors. */
const checks = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...FINAL_ERROR_TYPES],
  },
});

/** Store reads and alert delivery: patient, since Temporal or the store may be restarting. */
const alerts = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 30,
    nonRetryableErrorTypes: [...FINAL_ERROR_TYPES],
  },
});

/** Set by the Temporal server on workflows a Schedule starts. */
const ScheduledStartTime = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

export interface DataQualityWorkflowInput {
  /** Name of the check set (`config/checks/<name>.yaml`). */
  checkSet: string;
  trigger: 'schedule' | 'manual' | 'airflow';
  /** Who asked, for manual runs (`api`, a person id, `airflow:<dag>.<task>`). */
  requestedBy?: string;
  /** The Airflow DAG run that asked for this run. */
  dagRunId?: string;
}

export interface DataQualityWorkflowResult {
  checkSet: string;
  trigger: DataQualityWorkflowInput['trigger'];
  runKey: string;
  outcome: CheckSetResult['outcome'];
  /** One line: `customers_daily on public.customers: 1 of 4 checks failed: …`. */
  summary: string;
  result: CheckSetResult;
  /** Alerts delivered to the incident ingress (none for a plain pass or a first warning). */
  alerts: RaisedDataQualityAlert[];
}

/** The time a Schedule planned this run for (RFC 3339), when a Schedule started it. */
function scheduledStartTime(): string | undefined {
  const info = workflowInfo();
  const typed = info.typedSearchAttributes.get(ScheduledStartTime);
  if (typed instanceof Date && !Number.isNaN(typed.getTime())) return typed.toISOString();
  // Older servers send the value without type metadata: only the untyped view has it then.
  const raw = info.searchAttributes?.TemporalScheduledStartTime?.[0];
  const ms = raw instanceof Date ? raw.getTime() : typeof raw === 'string' ? Date.parse(raw) : NaN;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Runs one data-quality check set and turns the outcome into incidents through the alert ingress path
 * (the same routing and signal-with-start as `POST /api/v1/alerts`):
 * - `fail` → alert `DataQualityCheckFailed` firing → a `data_quality_violation` incident (opened or joined);
 * - `pass`/`warn` after a failure → the same alert resolved, so the incident can resolve itself;
 * - `warn` otherwise → recorded only;
 * - `error` (the checks could not run) → alert `DataQualityCheckError` (P3, its own incident): the check needs
 *   repair, but nothing is known about the data, so no violation is declared and no DAG is paused.
 *
 * The run key is the Schedule's planned time for scheduled runs (`schedule:<time>`), else
 * `<workflowId>/<runId>`: activity retries and worker crashes never measure or store twice.
 */
export async function dataQualityWorkflow(
  input: DataQualityWorkflowInput,
): Promise<DataQualityWorkflowResult> {
  const info = workflowInfo();
  const scheduledAt = input.trigger === 'schedule' ? scheduledStartTime() : undefined;
  const runKey = scheduledAt ? `schedule:${scheduledAt}` : `${info.workflowId}/${info.runId}`;

  const result = await checks.runDataQualityChecks({ checkSet: input.checkSet, runKey });
  const earlier =
    result.outcome === 'error'
      ? []
      : await alerts.earlierDataQualityRuns({ checkSet: input.checkSet, runKey, before: result.startedAt });
  const plan = planDataQualityAlerts(
    result.outcome,
    earlier.map((r) => r.outcome),
  );
  const raised: RaisedDataQualityAlert[] = [];
  for (const p of plan) {
    raised.push(
      await alerts.raiseDataQualityAlert.executeWithOptions(
        { summary: `${DATA_QUALITY_ALERT_NAMES[p.kind]} ${p.status}` },
        [{ result, checkSet: input.checkSet, kind: p.kind, status: p.status }],
      ),
    );
  }
  return {
    checkSet: input.checkSet,
    trigger: input.trigger,
    runKey,
    outcome: result.outcome,
    summary: summarizeCheckSetResult(result),
    result,
    alerts: raised,
  };
}

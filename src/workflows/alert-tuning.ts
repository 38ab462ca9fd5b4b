import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, FINAL_ERROR_TYPES } from '../domain/errors';
import type { TuningReport } from '../domain/tuning-report';

const DAY_MS = 86_400_000;

/** Channel of the report when neither the input nor the Schedule names one (the `SLACK_CHANNEL` default). */
export const DEFAULT_TUNING_REPORT_CHANNEL = '#data-incidents';

const learn = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [...FINAL_ERROR_TYPES],
  },
});

const slack = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...FINAL_ERROR_TYPES],
  },
});

export interface AlertTuningReportInput {
  /** Length of the period ending now (default 30 days). */
  periodDays?: number;
  /** Slack channel for the report (default {@link DEFAULT_TUNING_REPORT_CHANNEL}). */
  channel?: string;
  /** An alert that refired at least this many times is flapping (default 3). */
  flapThreshold?: number;
  /** Entries per list (default 10). */
  top?: number;
}

export interface AlertTuningReportResult {
  report: TuningReport;
  markdown: string;
  /** Where the report was posted; absent when Slack is not configured on the worker. */
  slack?: { channel: string; ts: string };
}

function isNotConfigured(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === ErrorType.NotConfigured
  );
}

/**
 * The monthly alert-tuning report (seed "Alert Tuning, 월 1회"): noisy, flapping and runbook-less alerts
 * and the slowest incident types over the last `periodDays`, built from the incident store and posted to
 * Slack. Without Slack on the worker (`NotConfigured`) the report is only returned. Started by the
 * `alert-tuning-report` Schedule (default 09:00 on the 1st of every month) or by hand.
 */
export async function alertTuningReportWorkflow(
  input: AlertTuningReportInput = {},
): Promise<AlertTuningReportResult> {
  const periodDays = input.periodDays ?? 30;
  const toMs = Date.now();
  const { report, markdown } = await learn.buildTuningReport({
    fromMs: toMs - periodDays * DAY_MS,
    toMs,
    ...(input.flapThreshold !== undefined ? { flapThreshold: input.flapThreshold } : {}),
    ...(input.top !== undefined ? { top: input.top } : {}),
  });
  const channel = input.channel ?? DEFAULT_TUNING_REPORT_CHANNEL;
  try {
    const posted = await slack.notifySlack.executeWithOptions({ summary: `post the report to ${channel}` }, [
      { channel, text: markdown },
    ]);
    return { report, markdown, slack: { channel: posted.channel, ts: posted.ts } };
  } catch (err) {
    if (isNotConfigured(err)) return { report, markdown };
    throw err;
  }
}

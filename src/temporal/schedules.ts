/**
 * Temporal Schedules owned by incidentflow: one per data-quality check set (`data-quality:<name>`) and the
 * monthly alert-tuning report (`alert-tuning-report`). {@link syncSchedules} makes the server match the
 * configuration at every start: it creates what is missing, updates what changed (keeping a pause set by an
 * operator), leaves the rest alone and deletes `data-quality:*` schedules whose check set is gone.
 */
import {
  type Client,
  type ScheduleDescription,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleOptions,
} from '@temporalio/client';
import { cronProblem } from '../domain/cron';
import type { CheckSet } from '../domain/data-quality';
import { fingerprintOf } from '../domain/generic-alert';
import type { AlertTuningReportInput } from '../workflows/alert-tuning';
import type { DataQualityWorkflowInput } from '../workflows/data-quality';

/** Prefix of the data-quality schedule ids; every schedule with it belongs to incidentflow. */
export const DATA_QUALITY_SCHEDULE_PREFIX = 'data-quality:';
export const TUNING_REPORT_SCHEDULE_ID = 'alert-tuning-report';
/** 09:00 on the first day of every month. */
export const DEFAULT_TUNING_REPORT_CRON = '0 9 1 * *';

/** A run missed while the server was down is still taken when it is at most this late. */
const DATA_QUALITY_CATCHUP_MS = 10 * 60_000;
const TUNING_REPORT_CATCHUP_MS = 24 * 3_600_000;
/** A run that cannot finish (no worker, Temporal trouble) gives way to the next one after this. */
const RUN_TIMEOUT = '1h';
/** Memo key (on the started workflows) holding the hash of the definition that created the schedule. */
const DEFINITION_MEMO_KEY = 'incidentflowScheduleDefinition';

/** The schedule id of a check set. */
export function dataQualityScheduleId(checkSet: string): string {
  return `${DATA_QUALITY_SCHEDULE_PREFIX}${checkSet}`;
}

const TEMPORAL_MACROS: Readonly<Record<string, string>> = { '@midnight': '@daily', '@annually': '@yearly' };

/**
 * A validated cron expression (see `domain/cron.ts`) as Temporal reads it: `@midnight` and `@annually`
 * become `@daily` and `@yearly`; everything else is passed through.
 */
export function toTemporalCron(expression: string): string {
  const trimmed = expression.trim();
  return TEMPORAL_MACROS[trimmed] ?? trimmed;
}

export interface TuningReportScheduleOptions {
  /** Default {@link DEFAULT_TUNING_REPORT_CRON}. */
  cron?: string;
  /** Slack channel of the report (the workflow's default when absent). */
  channel?: string;
  /** Default 30. */
  periodDays?: number;
}

export interface SyncSchedulesOptions {
  /** The configured check sets by name (`AppConfig.checks`). */
  checkSets: Readonly<Record<string, Pick<CheckSet, 'name' | 'schedule' | 'table'>>>;
  /** Task queue of the incidentflow worker. */
  taskQueue: string;
  tuningReport: TuningReportScheduleOptions;
  /** IANA time zone the cron expressions are read in (default UTC). */
  timeZone?: string;
}

/** What {@link syncSchedules} did to one schedule. */
export interface ScheduleSyncChange {
  scheduleId: string;
  action: 'created' | 'updated' | 'unchanged' | 'deleted';
}

/** The schedules the configuration asks for, in a stable order (check sets by name, then the report). */
export function desiredSchedules(options: SyncSchedulesOptions): ScheduleOptions[] {
  const tuningCron = options.tuningReport.cron ?? DEFAULT_TUNING_REPORT_CRON;
  const problem = cronProblem(tuningCron);
  if (problem !== undefined) throw new Error(`tuning report schedule "${tuningCron}": ${problem}`);
  const timezone = options.timeZone ?? 'UTC';
  const out: ScheduleOptions[] = [];
  for (const name of Object.keys(options.checkSets).sort()) {
    const set = options.checkSets[name]!;
    const id = dataQualityScheduleId(name);
    const args: [DataQualityWorkflowInput] = [{ checkSet: name, trigger: 'schedule' }];
    out.push(
      withDefinitionHash({
        scheduleId: id,
        spec: { cronExpressions: [toTemporalCron(set.schedule)], timezone },
        action: {
          type: 'startWorkflow',
          workflowType: 'dataQualityWorkflow',
          workflowId: id,
          taskQueue: options.taskQueue,
          args,
          workflowExecutionTimeout: RUN_TIMEOUT,
          staticSummary: `data-quality checks ${name} on ${set.table.schema}.${set.table.name}`.slice(0, 200),
        },
        policies: { overlap: 'SKIP', catchupWindow: DATA_QUALITY_CATCHUP_MS, pauseOnFailure: false },
      }),
    );
  }
  const report: AlertTuningReportInput = {
    periodDays: options.tuningReport.periodDays ?? 30,
    ...(options.tuningReport.channel ? { channel: options.tuningReport.channel } : {}),
  };
  out.push(
    withDefinitionHash({
      scheduleId: TUNING_REPORT_SCHEDULE_ID,
      spec: { cronExpressions: [toTemporalCron(tuningCron)], timezone },
      action: {
        type: 'startWorkflow',
        workflowType: 'alertTuningReportWorkflow',
        workflowId: TUNING_REPORT_SCHEDULE_ID,
        taskQueue: options.taskQueue,
        args: [report],
        workflowExecutionTimeout: RUN_TIMEOUT,
        staticSummary: `alert-tuning report (last ${report.periodDays} days)`,
      },
      policies: { overlap: 'SKIP', catchupWindow: TUNING_REPORT_CATCHUP_MS, pauseOnFailure: false },
    }),
  );
  return out;
}

/** Stamps a hash of the definition into the started workflows' memo, so an unchanged schedule is left alone. */
function withDefinitionHash(schedule: ScheduleOptions): ScheduleOptions {
  const hash = fingerprintOf(JSON.stringify(schedule));
  return { ...schedule, action: { ...schedule.action, memo: { [DEFINITION_MEMO_KEY]: hash } } };
}

function definitionHash(description: ScheduleDescription): unknown {
  return description.action.memo?.[DEFINITION_MEMO_KEY];
}

async function describeOrUndefined(
  client: Pick<Client, 'schedule'>,
  scheduleId: string,
): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

async function upsert(
  client: Pick<Client, 'schedule'>,
  desired: ScheduleOptions,
): Promise<ScheduleSyncChange['action']> {
  let current = await describeOrUndefined(client, desired.scheduleId);
  if (!current) {
    try {
      await client.schedule.create(desired);
      return 'created';
    } catch (err) {
      // Another process (a second API replica) created it in the meantime.
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      current = await describeOrUndefined(client, desired.scheduleId);
      if (!current) throw err;
    }
  }
  if (definitionHash(current) === desired.action.memo?.[DEFINITION_MEMO_KEY]) return 'unchanged';
  const { scheduleId: _id, memo: _memo, state: _state, ...definition } = desired;
  await client.schedule.getHandle(desired.scheduleId).update((previous) => ({
    ...definition,
    // Keep what operators set: a schedule paused in the Web UI stays paused.
    state: {
      paused: previous.state.paused,
      ...(previous.state.note !== undefined ? { note: previous.state.note } : {}),
      ...(previous.state.remainingActions !== undefined
        ? { remainingActions: previous.state.remainingActions }
        : {}),
    },
  }));
  return 'updated';
}

/**
 * Creates or updates one Schedule per check set (`data-quality:<name>`, the check set's cron, overlap
 * SKIP, catch-up window 10 min) and the alert-tuning report schedule (`alert-tuning-report`, default
 * `0 9 1 * *`, catch-up window 1 day), and deletes `data-quality:*` schedules whose check set no longer
 * exists. Idempotent: run it at every start. Throws on an invalid tuning cron or when Temporal fails.
 */
export async function syncSchedules(
  client: Pick<Client, 'schedule'>,
  options: SyncSchedulesOptions,
): Promise<ScheduleSyncChange[]> {
  const desired = desiredSchedules(options);
  const changes: ScheduleSyncChange[] = [];
  for (const schedule of desired) {
    changes.push({ scheduleId: schedule.scheduleId, action: await upsert(client, schedule) });
  }
  const wanted = new Set(desired.map((s) => s.scheduleId));
  const stale: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(DATA_QUALITY_SCHEDULE_PREFIX) && !wanted.has(summary.scheduleId))
      stale.push(summary.scheduleId);
  }
  for (const scheduleId of stale.sort()) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
      changes.push({ scheduleId, action: 'deleted' });
    } catch (err) {
      // Listing is eventually consistent: it may still show a schedule deleted a moment ago.
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return changes;
}

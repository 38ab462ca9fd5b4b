/**
 * Airflow task-instance and DAG-run states (both API versions), and the groupings the runbook steps use.
 * Workflow-safe: constants and pure predicates only.
 */
export const TASK_STATES = [
  'success',
  'running',
  'failed',
  'upstream_failed',
  'skipped',
  'up_for_retry',
  'up_for_reschedule',
  'queued',
  'scheduled',
  'deferred',
  'removed',
  'restarting',
] as const;
/** A task-instance state; `null` (v1 also `"none"`) means "no state yet" and is kept as `null`. */
export type TaskState = (typeof TASK_STATES)[number];

export const DAG_RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export type DagRunState = (typeof DAG_RUN_STATES)[number];

/** States in which the scheduler or a worker still owns the task: clearing it again would be a second retry. */
export const ACTIVE_TASK_STATES: readonly TaskState[] = [
  'queued',
  'scheduled',
  'running',
  'up_for_retry',
  'up_for_reschedule',
  'deferred',
  'restarting',
];

/** States that end a task attempt without success. */
export const FAILED_TASK_STATES: readonly TaskState[] = ['failed', 'upstream_failed'];

/** States after which the task will not change on its own. */
export const FINISHED_TASK_STATES: readonly TaskState[] = [
  'success',
  'failed',
  'upstream_failed',
  'skipped',
  'removed',
];

export const FINISHED_DAG_RUN_STATES: readonly DagRunState[] = ['success', 'failed'];

export function isActiveTaskState(state: string | null): boolean {
  return state !== null && (ACTIVE_TASK_STATES as readonly string[]).includes(state);
}

export function isFinishedTaskState(state: string | null): boolean {
  return state !== null && (FINISHED_TASK_STATES as readonly string[]).includes(state);
}

export function isFinishedDagRunState(state: string | null): boolean {
  return state !== null && (FINISHED_DAG_RUN_STATES as readonly string[]).includes(state);
}

/** Maps the wire value to our form: v1's deprecated `"none"` and a missing state both become `null`. */
export function normaliseTaskState(value: string | null | undefined): TaskState | null {
  if (value === null || value === undefined || value === 'none' || value === '') return null;
  // A newer Airflow may add states; they pass through unchanged rather than failing the call.
  return value as TaskState;
}

import { z } from 'zod';

/**
 * Root causes the diagnosis knows about. A cause names what broke, not how to fix it; each cause may
 * suggest one of the built-in runbooks ({@link CAUSE_RUNBOOKS}) and prevention items for postmortems.
 */
export const Cause = z.enum([
  'deployment_regression',
  'connection_pool_exhaustion',
  'out_of_memory',
  'timeout',
  'permission_denied',
  'schema_mismatch',
  'disk_full',
  'upstream_data_missing',
  'transient_failure',
]);
export type Cause = z.infer<typeof Cause>;

/** The runbook that usually fixes a cause (only the built-in runbooks are named). */
export const CAUSE_RUNBOOKS: Readonly<Partial<Record<Cause, string>>> = {
  deployment_regression: 'dag_deployment_regression',
  connection_pool_exhaustion: 'connection_pool_exhaustion',
  transient_failure: 'task_temporary_failure',
  timeout: 'task_temporary_failure',
  upstream_data_missing: 'data_quality_violation',
};

/** How people call the fix a runbook applies, for "7 of 9 similar incidents were fixed by rollback". */
export const FIX_LABELS: Readonly<Record<string, string>> = {
  dag_deployment_regression: 'rollback',
  connection_pool_exhaustion: 'raising the connection pool',
  task_temporary_failure: 'retry',
  data_quality_violation: 'pausing downstream DAGs',
  sla_miss: 'scaling up workers',
};

/** A person-readable label for a fix (runbook name). */
export function fixLabel(fix: string | undefined): string {
  if (fix === undefined || fix === '') return 'a manual fix';
  return FIX_LABELS[fix] ?? fix;
}

/** Person-readable cause names for postmortems and Slack. */
export const CAUSE_LABELS: Readonly<Record<Cause, string>> = {
  deployment_regression: 'deployment regression',
  connection_pool_exhaustion: 'connection pool exhaustion',
  out_of_memory: 'out of memory',
  timeout: 'timeout',
  permission_denied: 'permission denied',
  schema_mismatch: 'schema mismatch',
  disk_full: 'disk full',
  upstream_data_missing: 'upstream data missing',
  transient_failure: 'transient failure',
};

/** A label for any cause string (unknown causes are shown as they are). */
export function causeLabel(cause: string): string {
  const parsed = Cause.safeParse(cause);
  return parsed.success ? CAUSE_LABELS[parsed.data] : cause;
}

/** Prevention items a postmortem suggests per cause, after the runbook's own `prevention` list. */
export const CAUSE_PREVENTION: Readonly<Record<Cause, readonly string[]>> = {
  deployment_regression: ['Load-test new deployments before prod', 'Gradual rollout (10% → 50% → 100%)'],
  connection_pool_exhaustion: [
    'Add connection pool validation in CI/CD',
    'Alert on connection pool usage above 80% before it is exhausted',
  ],
  out_of_memory: ['Set memory requests/limits from observed peak usage', 'Process large inputs in chunks'],
  timeout: ['Review timeouts against the task P95 duration', 'Alert on rising task duration'],
  permission_denied: [
    'Check credentials and grants in a pre-deploy smoke test',
    'Track secret and grant expiry dates',
  ],
  schema_mismatch: [
    'Add schema contract checks between producer and consumer',
    'Run data-quality schema checks before downstream tasks',
  ],
  disk_full: ['Alert on disk usage above 80%', 'Add log and temp-file retention'],
  upstream_data_missing: [
    'Add a freshness check (sensor with an SLA) for the upstream data',
    'Agree on a delivery SLA with the upstream owner',
  ],
  transient_failure: [
    'Keep automatic retries with exponential backoff on this task',
    'Track the retry rate to catch a worsening dependency',
  ],
};

/** Prevention items for a cause string (none for unknown causes). */
export function preventionFor(cause: string | undefined): readonly string[] {
  if (cause === undefined) return [];
  const parsed = Cause.safeParse(cause);
  return parsed.success ? CAUSE_PREVENTION[parsed.data] : [];
}

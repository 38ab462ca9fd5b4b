/**
 * The chaos worker's config directory: a copy of the shipped config whose runbooks keep every step, action
 * and parameter, with only waits and per-attempt timeouts shortened. A killed activity is retried when
 * its start-to-close timeout (the step's `timeout`) or its heartbeat timeout expires, whichever is first;
 * the shipped timeouts (minutes) would make each kill cost minutes. Airflow checks, which would hold at
 * their first poll, must hold for a few seconds, so a kill can land while one polls. See README.md here.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

type Step = Record<string, unknown> & { id: string; with?: Record<string, unknown> };

/** Per runbook and step: fields replaced at the top level of the step and inside `with`. */
const OVERRIDES: Record<
  string,
  Record<string, { step?: Record<string, unknown>; with?: Record<string, unknown> }>
> = {
  task_temporary_failure: {
    retry_task: { step: { timeout: '45s' }, with: { completion_timeout: '40s' } },
    verify_task: { step: { within: '2m', interval: '2s', for: '5s' } },
  },
  connection_pool_exhaustion: {
    raise_pool: { step: { timeout: '15s' } },
    retry_task: { step: { timeout: '45s' }, with: { completion_timeout: '40s' } },
    verify_task: { step: { within: '2m', interval: '2s', for: '5s' } },
  },
  dag_deployment_regression: {
    rollback: { step: { timeout: '20s' } },
    wait_for_rollout: { with: { timeout: '20s' } },
    verify_failure_rate: { step: { for: '4s', within: '2m', interval: '1s' } },
  },
  sla_miss: {
    scale_workers: { step: { timeout: '20s' } },
    watch_dag_run: { step: { within: '2m', interval: '2s', for: '5s' } },
  },
  data_quality_violation: {
    pause_downstream: { step: { timeout: '15s' } },
    unpause_downstream: { step: { timeout: '15s' } },
  },
};

/** Copies `config/` to a temporary directory with the chaos timings; returns the directory. */
export function chaosConfigDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-chaos-config-'));
  cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
  for (const [runbook, steps] of Object.entries(OVERRIDES)) {
    const file = join(dir, 'runbooks', `${runbook}.yaml`);
    const doc = parse(readFileSync(file, 'utf8')) as { steps: Step[] };
    for (const [id, o] of Object.entries(steps)) {
      const step = doc.steps.find((s) => s.id === id);
      if (!step) throw new Error(`chaos config: runbook ${runbook} has no step ${id}`);
      Object.assign(step, o.step ?? {});
      if (o.with) step.with = { ...step.with, ...o.with };
    }
    writeFileSync(file, stringify(doc));
  }
  return dir;
}

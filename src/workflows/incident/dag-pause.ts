import { type ActivityOptions, patched } from '@temporalio/workflow';
import type { StepState } from '../../domain/runbook-run';
import { actions, quick } from './proxies';
import { act, type Runtime } from './runtime';

/**
 * Gates the read → record → change flow of `airflow.pause_dag` / `airflow.unpause_dag`. Runs that reached
 * these steps before it keep learning what they changed from the activity's result, as when recorded.
 */
export const PAUSE_RECORD_PATCH = 'pause-dags-record-before-change';

/** Whether this step records the DAGs it changes before changing them (records the patch marker when new). */
export function recordsPauseTargets(): boolean {
  return patched(PAUSE_RECORD_PATCH);
}

/**
 * Reads each DAG's paused state once and records the DAGs this step changes (`toChange`; for a pause also
 * `pausedDagIds`, which a later unpause step resumes) before changing them. Learning it from the change's
 * result instead loses a DAG whenever the worker dies after its PATCH: the retry finds it paused already
 * and reports it as paused by someone else, so it would never be resumed.
 */
export async function setDagsPaused(
  rt: Runtime,
  st: StepState,
  dagIds: string[],
  paused: boolean,
  opts: ActivityOptions,
): Promise<void> {
  if (!Array.isArray(st.data.toChange)) {
    const { states } = await act(rt, () => quick.airflowReadPaused({ dagIds }));
    const toChange = states.filter((s) => s.isPaused !== paused).map((s) => s.dagId);
    st.data.toChange = toChange;
    if (paused) st.data.pausedDagIds = toChange;
  }
  const toChange = st.data.toChange;
  if (toChange.length > 0) {
    await act(rt, () => actions.airflowSetPaused.executeWithOptions(opts, [{ dagIds: toChange, paused }]));
  }
  st.data.changed = toChange.length;
}

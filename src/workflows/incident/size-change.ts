import { type ActivityOptions, patched } from '@temporalio/workflow';
import { absoluteTarget, type SizeChange } from '../../domain/relative-change';
import type { StepState } from '../../domain/runbook-run';
import { actions, kube, quick } from './proxies';
import { act, type Runtime } from './runtime';

/**
 * Gates the read → record → set-absolute flow of `kubectl.scale` and `airflow.set_pool_slots`. Runs that
 * reached these steps before it (no marker in their history) keep calling the activity with the
 * relative input, as they did when recorded.
 */
export const ABSOLUTE_TARGET_PATCH = 'relative-change-absolute-target';

/** Whether this step uses the read → record → set-absolute flow (records the patch marker when new). */
export function usesAbsoluteTarget(): boolean {
  return patched(ABSOLUTE_TARGET_PATCH);
}

/**
 * Records `previous` (the live size) and `target` in the step's state before any change, reading the live
 * size only when no target is recorded yet. After that the step only sets `target`: a retry, a worker
 * killed after the change but before reporting it, or a continue-as-new between the record and the set all
 * converge on the recorded target instead of reading the already-increased size and adding again.
 */
async function recordTarget(
  st: StepState,
  change: SizeChange,
  readLive: () => Promise<number>,
): Promise<number> {
  if (typeof st.data.target !== 'number') {
    const previous = await readLive();
    st.data.previous = previous;
    st.data.target = absoluteTarget(previous, change);
  }
  return st.data.target;
}

/** `kubectl.scale`: reads the replicas once, records `previous`/`target`, then scales to `target`. */
export async function scaleDeployment(
  rt: Runtime,
  st: StepState,
  target: { namespace: string; deployment: string },
  change: SizeChange,
  opts: ActivityOptions,
): Promise<void> {
  const { namespace, deployment } = target;
  const replicas = await recordTarget(st, change, async () => {
    const live = await act(rt, () =>
      kube.kubeReadReplicas.executeWithOptions({ summary: `read replicas of deployment/${deployment}` }, [
        { namespace, deployment },
      ]),
    );
    return live.replicas;
  });
  const result = await act(rt, () =>
    kube.kubeScale.executeWithOptions({ ...opts, summary: `kubectl scale deployment/${deployment}` }, [
      { namespace, deployment, replicas },
    ]),
  );
  st.data.current = result.current;
}

/** `airflow.set_pool_slots`: reads the slots once, records `previous`/`target`, then sets `target`. */
export async function setPoolSlots(
  rt: Runtime,
  st: StepState,
  pool: string,
  change: SizeChange,
  opts: ActivityOptions,
): Promise<void> {
  const slots = await recordTarget(
    st,
    change,
    async () => (await act(rt, () => quick.airflowReadPool({ pool }))).slots,
  );
  // An unlimited pool (-1 slots) has nothing to raise.
  if (slots < 0) {
    st.data.current = slots;
    return;
  }
  const previous = st.data.previous;
  const result = await act(rt, () =>
    actions.airflowSetPoolSlots.executeWithOptions(opts, [
      { pool, slots, ...(typeof previous === 'number' ? { previous } : {}) },
    ]),
  );
  st.data.current = result.current;
}

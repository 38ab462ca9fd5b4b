import { condition, log } from '@temporalio/workflow';
import {
  compactAlerts,
  enforceCaps,
  planArchive,
  removeArchived,
  serializedSize,
} from '../../domain/state-bounds';
import { incidentKey } from './learn';
import { learn } from './proxies';
import { act, failureMessage, type Runtime } from './runtime';

/** Patch id of the size bounds: caps at intake, bounded lists, the state budget and its archive. */
export const SIZE_PATCH = 'state-size-bounds';

/**
 * Applies the caps and, when the state is over its budget (or, with a store, its timeline or runbook
 * history is long), moves the oldest entries out: archived to the store, or dropped without one. Alert
 * records are compacted if that is still not enough. Returns true when the state was over budget and
 * something left it. Never runs two trims at once, and starts nothing while the run drains.
 */
export async function keepInBudget(rt: Runtime): Promise<boolean> {
  await condition(() => !rt.trimming);
  rt.trimming = true;
  try {
    const { state, bounds } = rt;
    enforceCaps(state, bounds);
    rt.uncheckedBytes = 0;
    const size = serializedSize(state);
    const over = size > bounds.budgetBytes;
    let stored = rt.features.store;
    const batches = planArchive(state, bounds, stored, size);
    for (const batch of batches) {
      if (stored && !rt.draining) {
        try {
          await act(rt, () =>
            learn.archiveIncidentEntries({
              incidentKey: incidentKey(rt),
              kind: batch.kind,
              fromPosition: batch.fromPosition,
              entries: batch.entries,
            }),
          );
        } catch (err) {
          // The store stayed unavailable through every retry: the state must shrink anyway.
          log.warn('archiving incident state failed; dropping the entries instead', {
            message: failureMessage(err).message,
          });
          stored = false;
        }
      } else stored = false;
      removeArchived(state, batch, stored);
    }
    const compacted = over ? compactAlerts(state, bounds) : 0;
    if (compacted > 0) log.warn('incident state over budget: alert records compacted', { compacted });
    return over && (batches.length > 0 || compacted > 0);
  } finally {
    rt.trimming = false;
  }
}

/** Alert bytes taken in since the last check that make a check due at once. */
const CHECK_AFTER_BYTES = 64 * 1024;
/** Changes after which a check is due anyway (timeline entries, pages, refusals…). */
const CHECK_AFTER_CHANGES = 16;

/**
 * The size-keeping part of an incident run: caps the state and checks its serialized size after every
 * 16 changes, after 64 KiB of alerts, and (with a store) whenever the timeline reaches its archive threshold (each check
 * serializes the state, so not after every change). When a trim was needed because the budget was
 * exceeded, asks the main loop to continue as new.
 */
export async function runStateBudget(rt: Runtime): Promise<void> {
  let checkedAt = rt.version;
  const due = (): boolean =>
    rt.uncheckedBytes >= CHECK_AFTER_BYTES ||
    rt.version - checkedAt >= CHECK_AFTER_CHANGES ||
    (rt.features.store &&
      rt.version !== checkedAt &&
      rt.state.timeline.length >= rt.bounds.archiveTimelineAt);
  while (!rt.finished) {
    await condition(() => rt.finished || (!rt.draining && due()));
    if (rt.finished) return;
    checkedAt = rt.version;
    if (await keepInBudget(rt)) rt.continueForSize = true;
  }
}

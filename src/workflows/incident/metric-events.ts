import { condition } from '@temporalio/workflow';
import { metrics } from './proxies';
import type { Runtime } from './runtime';

/**
 * The metrics part: sends queued engine metric events to the worker's registry in batches, one activity
 * at a time (events queue up while a batch is in flight). A regular activity, not a local one: its place
 * among the incident's other commands is recorded in history, so replay stays deterministic. Best effort:
 * a lost batch only skews a dashboard.
 */
export async function runMetrics(rt: Runtime): Promise<void> {
  for (;;) {
    await condition(() => rt.metricEvents.length > 0 || rt.finished);
    if (rt.metricEvents.length === 0) return;
    const events = rt.metricEvents.splice(0, rt.metricEvents.length);
    await metrics.recordIncidentMetrics({ events }).catch(() => undefined);
  }
}

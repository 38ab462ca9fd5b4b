import { type IncidentMetricEvent, parseIncidentMetricBatch } from '../domain/incident-metrics';
import type { EngineMetrics } from '../metrics/engine-metrics';

/** What the incident workflow passes to {@link createMetricsActivities}' `recordIncidentMetrics`. */
export interface RecordIncidentMetricsInput {
  events: IncidentMetricEvent[];
}

/** How many events of a batch were counted and how many were dropped as invalid. */
export interface RecordIncidentMetricsResult {
  recorded: number;
  invalid: number;
}

/**
 * The metrics activity. Run it as a LOCAL activity: it only increments in-process counters (microseconds),
 * never does I/O and never throws, so a retry can only come from a worker crash. Counting is at-least-once
 * per workflow-task attempt: a local activity repeated because its workflow task failed counts again.
 */
export function createMetricsActivities(metrics: EngineMetrics) {
  return {
    /**
     * Records a batch of incident metric events. Invalid events (and a batch that is not
     * `{ events: [...] }`) are counted under `incidentflow_metric_events_total{result="invalid"}` and
     * dropped; the valid ones of the same batch are still recorded.
     */
    recordIncidentMetrics(input: RecordIncidentMetricsInput): Promise<RecordIncidentMetricsResult> {
      let recorded = 0;
      let invalid = 0;
      try {
        const batch = parseIncidentMetricBatch(input);
        for (const event of batch.events) {
          metrics.record(event);
          recorded += 1;
        }
        for (const bad of batch.invalid) {
          metrics.recordInvalid(bad.kind);
          invalid += 1;
        }
      } catch {
        // Metrics must never fail an incident: whatever went wrong is counted and swallowed.
        metrics.recordInvalid('unknown');
        invalid += 1;
      }
      return Promise.resolve({ recorded, invalid });
    },
  };
}

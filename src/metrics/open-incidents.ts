import type { TemporalClient } from '../temporal/client';
import { IncidentServiceKey, IncidentSeverityKey, IncidentStatusKey } from '../workflows/search-attributes';
import type { OpenIncident } from './collectors';

/** Running incident workflows; resolved ones still running (learning, postmortem) are filtered out after. */
export const OPEN_INCIDENTS_QUERY = `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running'`;

export interface OpenIncidentsOptions {
  /** Deadline of the whole listing. Default 5 s. */
  timeoutMs?: number;
  /** Stop after this many workflows (bounds a scrape). Default 10,000. */
  limit?: number;
  /** Appended with AND to the visibility query (tests narrow it to their task queue). */
  andQuery?: string;
}

const CLOSED = new Set(['resolved', 'closed']);

/**
 * Lists open incidents from Temporal visibility with their `IncidentSeverity` and `IncidentService` search
 * attributes (`unknown` when missing). An incident whose `IncidentStatus` is `resolved` or `closed` is not
 * open even while its workflow still runs. Throws when Temporal cannot answer in time.
 */
export function openIncidentsFromTemporal(
  temporal: TemporalClient,
  options: OpenIncidentsOptions = {},
): () => Promise<OpenIncident[]> {
  const query = options.andQuery ? `${OPEN_INCIDENTS_QUERY} AND ${options.andQuery}` : OPEN_INCIDENTS_QUERY;
  const limit = options.limit ?? 10_000;
  return () =>
    temporal.withDeadline(options.timeoutMs ?? 5_000, async () => {
      const out: OpenIncident[] = [];
      let seen = 0;
      for await (const wf of temporal.client.workflow.list({ query, pageSize: 1_000 })) {
        if (++seen > limit) break;
        const sa = wf.typedSearchAttributes;
        if (CLOSED.has(sa.get(IncidentStatusKey) ?? '')) continue;
        out.push({
          severity: sa.get(IncidentSeverityKey) ?? 'unknown',
          service: sa.get(IncidentServiceKey) ?? 'unknown',
        });
      }
      return out;
    });
}

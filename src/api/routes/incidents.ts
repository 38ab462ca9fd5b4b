import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { incidentQuery } from '../../workflows/definitions';
import {
  EscalationLevelKey,
  IncidentKey,
  IncidentServiceKey,
  IncidentSeverityKey,
  IncidentStatusKey,
} from '../../workflows/search-attributes';
import { isTemporalUnavailable } from '../../temporal/client';
import type { AppDeps } from '../deps';
import { HttpError, parseOr400 } from '../errors';

const ListQuery = z.object({
  status: z.enum(['open', 'resolved', 'all']).default('open'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const VISIBILITY: Record<z.infer<typeof ListQuery>['status'], string> = {
  open: `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running'`,
  resolved: `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Completed'`,
  all: `WorkflowType = 'incidentWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`,
};

async function temporalCall<T>(deps: AppDeps, fn: () => Promise<T>): Promise<T> {
  try {
    return await deps.temporal.withDeadline(5_000, fn);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', 'no such incident');
    if (isTemporalUnavailable(err))
      throw new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable');
    throw err;
  }
}

/** `GET /api/v1/incidents` (from Temporal visibility) and `GET /api/v1/incidents/{id}` (live query). */
export function registerIncidentRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { client } = deps.temporal;
  app.get('/api/v1/incidents', { onRequest: deps.requireIngestToken('api') }, async (req) => {
    const q = parseOr400(ListQuery, req.query, 'query string');
    const incidents = await temporalCall(deps, async () => {
      const out = [];
      for await (const wf of client.workflow.list({ query: VISIBILITY[q.status], pageSize: q.limit })) {
        const sa = wf.typedSearchAttributes;
        out.push({
          incidentId: wf.workflowId,
          runId: wf.runId,
          executionStatus: wf.status.name,
          status: sa.get(IncidentStatusKey) ?? null,
          severity: sa.get(IncidentSeverityKey) ?? null,
          service: sa.get(IncidentServiceKey) ?? null,
          dedupKey: sa.get(IncidentKey) ?? null,
          escalationLevel: sa.get(EscalationLevelKey) ?? null,
          startedAt: wf.startTime.toISOString(),
          closedAt: wf.closeTime?.toISOString() ?? null,
        });
        if (out.length >= q.limit) break;
      }
      return out;
    });
    return { incidents };
  });

  app.get<{ Params: { id: string } }>(
    '/api/v1/incidents/:id',
    { onRequest: deps.requireIngestToken('api') },
    async (req) => {
      const handle = client.workflow.getHandle(req.params.id);
      return temporalCall(deps, () => handle.query(incidentQuery));
    },
  );
}

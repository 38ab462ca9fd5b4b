import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { isTemporalUnavailable } from '../../temporal/client';
import { IncidentNotFound, type PersonAction } from '../incident-actions';
import type { AppDeps } from '../deps';
import { HttpError, parseOr400 } from '../errors';

const ListQuery = z.object({
  status: z.enum(['open', 'resolved', 'all']).default('open'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const Actor = {
  user: z.string().min(1).max(200),
  requestId: z.string().min(1).max(200).optional(),
};
const AcknowledgeBody = z.strictObject({ ...Actor, comment: z.string().max(2000).optional() });
const ResolveBody = z.strictObject({ ...Actor, note: z.string().max(2000).optional() });
const EscalateBody = z.strictObject({
  ...Actor,
  level: z.number().int().min(1).max(20).optional(),
  reason: z.string().max(500).optional(),
});
const ApprovalBody = z.strictObject({
  ...Actor,
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2000).optional(),
});
const RunbookBody = z.strictObject({ ...Actor, runbook: z.string().min(1).max(100) });
const CommentBody = z.strictObject({ ...Actor, text: z.string().min(1).max(4000) });
const ReviewBody = z.strictObject({ reviewer: z.string().min(1).max(200) });

/** Maps Temporal and lookup failures to HTTP answers. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IncidentNotFound) throw new HttpError(404, 'not_found', err.message);
    if (isTemporalUnavailable(err))
      throw new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable');
    throw err;
  }
}

/**
 * Incident REST API: list and view (Temporal), the same actions as the Slack buttons for non-Slack
 * clients (bearer-authenticated; the acting user is in the body and authorized inside the workflow), and
 * the postmortem.
 */
export function registerIncidentRoutes(app: FastifyInstance, deps: AppDeps): void {
  const auth = { onRequest: deps.requireIngestToken('api') };

  app.get('/api/v1/incidents', auth, async (req) => {
    const q = parseOr400(ListQuery, req.query, 'query string');
    return { incidents: await call(() => deps.actions.list(q.status, q.limit)) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id', auth, async (req) =>
    call(() => deps.actions.view(req.params.id)),
  );

  const action = (
    path: string,
    schema: z.ZodType,
    toAction: (body: never, params: Record<string, string>) => PersonAction,
  ): void => {
    app.post<{ Params: Record<string, string> }>(path, auth, async (req, reply: FastifyReply) => {
      const body = parseOr400(schema, req.body ?? {}) as { user: string; requestId?: string };
      const result = await call(() =>
        deps.actions.act(req.params.id!, toAction(body as never, req.params), {
          user: body.user,
          via: 'api',
          requestId: body.requestId ?? `api:${req.id}:${Date.now()}`,
        }),
      );
      return reply.status(result.ok ? 202 : 409).send(result);
    });
  };
  action('/api/v1/incidents/:id/acknowledge', AcknowledgeBody, (b: z.infer<typeof AcknowledgeBody>) => ({
    kind: 'acknowledge',
    ...(b.comment ? { comment: b.comment } : {}),
  }));
  action('/api/v1/incidents/:id/resolve', ResolveBody, (b: z.infer<typeof ResolveBody>) => ({
    kind: 'resolve',
    ...(b.note ? { note: b.note } : {}),
  }));
  action('/api/v1/incidents/:id/escalate', EscalateBody, (b: z.infer<typeof EscalateBody>) => ({
    kind: 'escalate',
    ...(b.level !== undefined ? { level: b.level } : {}),
    ...(b.reason ? { reason: b.reason } : {}),
  }));
  action('/api/v1/incidents/:id/approvals/:stepId', ApprovalBody, (b: z.infer<typeof ApprovalBody>, p) => ({
    kind: b.decision,
    stepId: p.stepId!,
    ...(b.comment ? { comment: b.comment } : {}),
  }));
  action('/api/v1/incidents/:id/runbooks', RunbookBody, (b: z.infer<typeof RunbookBody>) => ({
    kind: 'run_runbook',
    runbook: b.runbook,
  }));
  action('/api/v1/incidents/:id/comments', CommentBody, (b: z.infer<typeof CommentBody>) => ({
    kind: 'comment',
    text: b.text,
  }));

  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id/postmortem', auth, async (req, reply) => {
    if (!deps.store)
      throw new HttpError(503, 'store_unavailable', 'the incident store is not available in this process');
    const pm = await deps.store.getPostmortem(req.params.id);
    if (!pm) throw new HttpError(404, 'not_found', `no postmortem for ${req.params.id} (yet)`);
    if ((req.headers.accept ?? '').includes('text/markdown')) {
      return reply.header('content-type', 'text/markdown; charset=utf-8').send(pm.markdown);
    }
    return pm;
  });

  app.post<{ Params: { id: string } }>('/api/v1/incidents/:id/postmortem/review', auth, async (req) => {
    if (!deps.store)
      throw new HttpError(503, 'store_unavailable', 'the incident store is not available in this process');
    const body = parseOr400(ReviewBody, req.body ?? {});
    const pm = await deps.store.markPostmortemReviewed(
      req.params.id,
      body.reviewer,
      new Date().toISOString(),
    );
    if (!pm) throw new HttpError(404, 'not_found', `no postmortem for ${req.params.id}`);
    return pm;
  });
}

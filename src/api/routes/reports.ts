import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { buildTuningReport, renderTuningReport } from '../../domain/tuning-report';
import type { AppDeps } from '../deps';
import { HttpError, parseOr400 } from '../errors';

const DAY_MS = 86_400_000;

const TuningQuery = z.object({
  days: z.coerce.number().int().min(1).max(366).default(30),
  flap_threshold: z.coerce.number().int().min(1).max(1000).optional(),
  top: z.coerce.number().int().min(1).max(100).optional(),
});

/**
 * `GET /api/v1/reports/alert-tuning?days=30`: the alert-tuning report over the last `days`, computed from
 * the incident store with the same pure functions as the monthly workflow. JSON `{ report, markdown }`, or
 * the markdown alone with `Accept: text/markdown`.
 */
export function registerReportRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/reports/alert-tuning',
    { onRequest: deps.requireIngestToken('api') },
    async (req, reply) => {
      const q = parseOr400(TuningQuery, req.query, 'query string');
      if (!deps.store)
        throw new HttpError(503, 'store_unavailable', 'the incident store is not available in this process');
      const toMs = Date.now();
      const data = await deps.store.tuningData({ fromMs: toMs - q.days * DAY_MS, toMs });
      const report = buildTuningReport(data, {
        ...(q.flap_threshold !== undefined ? { flapThreshold: q.flap_threshold } : {}),
        ...(q.top !== undefined ? { top: q.top } : {}),
      });
      const markdown = renderTuningReport(report, deps.timeZone ?? 'UTC');
      if ((req.headers.accept ?? '').includes('text/markdown'))
        return reply.header('content-type', 'text/markdown; charset=utf-8').send(markdown);
      return { report, markdown };
    },
  );
}

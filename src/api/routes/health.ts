import type { FastifyInstance } from 'fastify';
import { pingTemporal } from '../../temporal/client';
import type { AppDeps } from '../deps';

/** `/healthz` (process alive), `/readyz` (Temporal reachable), `/metrics` (Prometheus text). */
export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', () => Promise.resolve({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const temporal = await pingTemporal(deps.temporal);
    const checks = { temporal: temporal ? 'ok' : 'unreachable' };
    return reply.status(temporal ? 200 : 503).send({ status: temporal ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(body);
  });
}

import type { FastifyInstance } from 'fastify';
import { pingTemporal } from '../../temporal/client';
import type { AppDeps } from '../deps';

/** `/healthz` (process alive), `/readyz` (Temporal reachable), `/metrics` (Prometheus text). */
export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', () => Promise.resolve({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const temporal = await pingTemporal(deps.temporal);
    const store = deps.store
      ? await deps.store.ping().then(
          () => 'ok',
          () => 'unreachable',
        )
      : 'not_configured';
    const ready = temporal && store !== 'unreachable';
    const checks = { temporal: temporal ? 'ok' : 'unreachable', store };
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(body);
  });
}

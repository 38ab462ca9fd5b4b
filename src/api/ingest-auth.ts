import type { onRequestHookHandler } from 'fastify';
import type { AlertSource } from '../domain/alert';
import type { ApiMetrics } from '../metrics/registry';
import { checkBearer } from './auth';

/** Builds the onRequest hook that enforces the ingest bearer token before the body is read. */
export function ingestTokenHook(token: string | undefined, metrics: ApiMetrics) {
  return (source: AlertSource | 'api'): onRequestHookHandler =>
    async (req, reply) => {
      const problem = checkBearer(req.headers.authorization, token);
      if (problem === null) return;
      if (source !== 'api') metrics.alertsReceived.inc({ source, outcome: 'rejected' });
      await reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: problem });
    };
}

import type { onRequestHookHandler } from 'fastify';
import type { AlertSource } from '../domain/alert';
import type { ApiMetrics } from '../metrics/registry';
import { checkBearer } from './auth';
import { countRejected } from './routes/ingest-common';

/**
 * Builds the onRequest hook that enforces the ingest bearer token before the body is read. A refused alert
 * delivery counts as `incidentflow_alerts_rejected_total{reason="unauthorized"}` (and as `rejected` in
 * `incidentflow_alerts_received_total`).
 */
export function ingestTokenHook(token: string | undefined, metrics: ApiMetrics) {
  return (source: AlertSource | 'api'): onRequestHookHandler =>
    async (req, reply) => {
      const problem = checkBearer(req.headers.authorization, token);
      if (problem === null) return;
      if (source !== 'api') countRejected(metrics, source, 'unauthorized');
      await reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: problem });
    };
}

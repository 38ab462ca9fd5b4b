import type { FastifyInstance } from 'fastify';
import { alertsFromWebhook, AlertmanagerWebhook } from '../../domain/alertmanager';
import type { AppDeps } from '../deps';
import { parseOr400 } from '../errors';
import { ingestAlerts } from './ingest-common';

/** `POST /api/v1/alerts/alertmanager`: the Alertmanager webhook (payload version 4). */
export function registerAlertmanagerRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/api/v1/alerts/alertmanager',
    { onRequest: deps.requireIngestToken('alertmanager') },
    async (req, reply) => {
      const payload = parseOr400(AlertmanagerWebhook, req.body, 'Alertmanager payload', () =>
        deps.metrics.alertsReceived.inc({ source: 'alertmanager', outcome: 'rejected' }),
      );
      const result = await ingestAlerts(deps, 'alertmanager', alertsFromWebhook(payload));
      return reply.status(202).send(result);
    },
  );
}

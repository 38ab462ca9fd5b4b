import type { FastifyInstance } from 'fastify';
import { alertsFromWebhook, AlertmanagerWebhook } from '../../domain/alertmanager';
import type { AppDeps } from '../deps';
import { parseOr400 } from '../errors';
import { ingestAlerts, ingestRouteOptions } from './ingest-common';

/** `POST /api/v1/alerts/alertmanager`: the Alertmanager webhook (payload version 4). */
export function registerAlertmanagerRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post('/api/v1/alerts/alertmanager', ingestRouteOptions(deps, 'alertmanager'), async (req, reply) => {
    // A 400 here is counted as a rejection by the route's onError hook.
    const payload = parseOr400(AlertmanagerWebhook, req.body, 'Alertmanager payload');
    const result = await ingestAlerts(
      deps,
      'alertmanager',
      alertsFromWebhook(payload),
      () => reply.elapsedTime / 1000,
    );
    return reply.status(202).send(result);
  });
}

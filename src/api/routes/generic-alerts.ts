import type { FastifyInstance } from 'fastify';
import {
  alertFromGeneric,
  DeploymentEvent,
  GenericAlert,
  GenericAlertBatch,
  isGenericAlertBatch,
} from '../../domain/generic-alert';
import type { AppDeps } from '../deps';
import { parseOr400 } from '../errors';
import { ingestAlerts, ingestRouteOptions } from './ingest-common';

/**
 * `POST /api/v1/alerts` (generic alerts: Airflow callbacks, scripts) and `POST /api/v1/events/deployments`
 * (deployment markers for correlation). Same bearer token as the Alertmanager webhook.
 */
export function registerGenericAlertRoutes(app: FastifyInstance, deps: AppDeps): void {
  // Refusals are counted under `generic`: the body (which may say `airflow`) is not trusted before it parses.
  app.post('/api/v1/alerts', ingestRouteOptions(deps, 'generic'), async (req, reply) => {
    const items = isGenericAlertBatch(req.body)
      ? parseOr400(GenericAlertBatch, req.body, 'alert batch').alerts
      : [parseOr400(GenericAlert, req.body, 'alert')];
    const now = new Date().toISOString();
    const alerts = items.map((a) => alertFromGeneric(a, now));
    const source = alerts.every((a) => a.source === 'airflow') ? 'airflow' : 'generic';
    const result = await ingestAlerts(deps, source, alerts, () => reply.elapsedTime / 1000);
    return reply.status(202).send(result);
  });

  app.post(
    '/api/v1/events/deployments',
    { onRequest: deps.requireIngestToken('api') },
    async (req, reply) => {
      const event = parseOr400(DeploymentEvent, req.body, 'deployment event');
      const at = event.time ? new Date(event.time).toISOString() : new Date().toISOString();
      const recorded = await deps.deployments.record({ ...event, time: at });
      return reply.status(202).send({ recorded: recorded.created, deployment: { ...event, time: at } });
    },
  );
}

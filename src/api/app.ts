import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AppDeps } from './deps';
import { errorHandler } from './errors';
import { registerAlertmanagerRoutes } from './routes/alertmanager';
import { registerCheckRoutes } from './routes/checks';
import { registerGenericAlertRoutes } from './routes/generic-alerts';
import { registerHealthRoutes } from './routes/health';
import { registerIncidentRoutes } from './routes/incidents';
import { registerSlackRoutes } from './routes/slack';
import { registerReportRoutes } from './routes/reports';
import { registerRunbookRoutes } from './routes/runbooks';

export interface BuildAppOptions {
  /** Request body cap in bytes (413 above it). */
  bodyLimit?: number;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the HTTP API (not listening). Tests call this with injected dependencies and `app.inject`. */
export function buildApp(deps: AppDeps, options: BuildAppOptions = {}): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? 1_048_576;
  const app = Fastify({
    bodyLimit,
    logger: options.logger ?? false,
    // Large, slow bodies must not hold a socket forever.
    requestTimeout: 30_000,
  });
  app.setErrorHandler((err: Error, req, reply) => errorHandler(err, req, reply, bodyLimit));
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpDuration.observe(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  registerHealthRoutes(app, deps);
  registerAlertmanagerRoutes(app, deps);
  registerGenericAlertRoutes(app, deps);
  registerIncidentRoutes(app, deps);
  registerSlackRoutes(app, deps);
  registerCheckRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerRunbookRoutes(app, deps);
  return app;
}

import { Registry } from 'prom-client';
import { buildApp } from '../../src/api/app';
import { ingestTokenHook } from '../../src/api/ingest-auth';
import { createMemoryDeploymentRecorder } from '../../src/api/memory-deployments';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import type { RoutingConfig } from '../../src/domain/routing';
import { createIncidentStarter, defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { createApiMetrics } from '../../src/metrics/registry';
import { createTemporalClient, type TemporalClient } from '../../src/temporal/client';
import type { IncidentSettings } from '../../src/workflows/definitions';

export interface TestAppOptions {
  address: string;
  taskQueue: string;
  token?: string;
  routing?: RoutingConfig;
  settings?: Partial<IncidentSettings>;
  bodyLimit?: number;
  callTimeoutMs?: number;
}

const shippedRouting = loadConfig(resolve(__dirname, '../../config')).routing;

/** The real API wired to a real Temporal server, for `app.inject` tests. */
export function buildTestApp(options: TestAppOptions) {
  const temporal: TemporalClient = createTemporalClient(options.address, 'default');
  const registry = new Registry();
  const metrics = createApiMetrics(registry);
  const deployments = createMemoryDeploymentRecorder();
  const starter = createIncidentStarter({
    temporal,
    taskQueue: options.taskQueue,
    routing: () => options.routing ?? shippedRouting,
    settings: defaultIncidentSettings({ autoResolveGraceMs: 2_000, ...options.settings }),
    ...(options.callTimeoutMs ? { callTimeoutMs: options.callTimeoutMs } : {}),
  });
  const app = buildApp(
    {
      temporal,
      starter,
      metrics,
      registry,
      requireIngestToken: ingestTokenHook(options.token, metrics),
      deployments,
    },
    { bodyLimit: options.bodyLimit ?? 1_048_576 },
  );
  return {
    app,
    temporal,
    starter,
    registry,
    deployments,
    close: async () => {
      await app.close();
      await temporal.close();
    },
  };
}

import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { createSqlCheckResultStore } from '../../src/adapters/check-result-store';
import type { Store } from '../../src/adapters/store';
import { buildApp } from '../../src/api/app';
import type { DeploymentRecorder } from '../../src/api/deps';
import { createIncidentActions } from '../../src/api/incident-actions';
import { ingestTokenHook } from '../../src/api/ingest-auth';
import { createMemoryDeploymentRecorder } from '../../src/api/memory-deployments';
import { storeDeploymentRecorder } from '../../src/api/store-deployments';
import { type AppConfig, loadConfig } from '../../src/config/load-config';
import type { RoutingConfig } from '../../src/domain/routing';
import { createIncidentStarter, defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { createApiCollectors } from '../../src/metrics/collectors';
import { openIncidentsFromTemporal } from '../../src/metrics/open-incidents';
import { createApiMetrics } from '../../src/metrics/registry';
import { createTemporalClient, type TemporalClient } from '../../src/temporal/client';
import type { IncidentSettings } from '../../src/workflows/definitions';

/** The shipped config directory, loaded once per test file. */
export const shippedConfig: AppConfig = loadConfig(resolve(__dirname, '../../config'));

export interface TestAppOptions {
  address: string;
  taskQueue: string;
  token?: string;
  config?: AppConfig;
  routing?: RoutingConfig;
  settings?: Partial<IncidentSettings>;
  bodyLimit?: number;
  callTimeoutMs?: number;
  store?: Store;
  /** Registry behind `/metrics` (e.g. one that also holds engine metrics); a fresh one by default. */
  registry?: Registry;
  /** Cache period of the open-incidents listing. Default 500 ms, so tests see changes quickly. */
  collectorCacheTtlMs?: number;
  /** Bound of `POST /api/v1/checks/{name}/run?wait=true` (default 60 s). */
  checkWaitTimeoutMs?: number;
}

/**
 * The real API wired to a real Temporal server, for `app.inject` tests. By default incidents get no
 * integrations (features off) so intake tests stay about intake; pass settings.features to turn them on.
 */
export function buildTestApp(options: TestAppOptions) {
  const temporal: TemporalClient = createTemporalClient(options.address, 'default');
  const registry = options.registry ?? new Registry();
  const metrics = createApiMetrics(registry);
  const memoryDeployments = createMemoryDeploymentRecorder();
  const deployments: DeploymentRecorder = options.store
    ? storeDeploymentRecorder(options.store)
    : memoryDeployments;
  const config = {
    ...(options.config ?? shippedConfig),
    ...(options.routing ? { routing: options.routing } : {}),
  };
  // Like production, but open incidents are those of this test's task queue only (the server is shared).
  createApiCollectors(registry, {
    listOpenIncidents: openIncidentsFromTemporal(temporal, {
      andQuery: `TaskQueue = '${options.taskQueue}'`,
    }),
    oncall: () => config.oncall,
    cacheTtlMs: options.collectorCacheTtlMs ?? 500,
  });
  const starter = createIncidentStarter({
    temporal,
    taskQueue: options.taskQueue,
    config: () => config,
    settings: defaultIncidentSettings({
      autoResolveGraceMs: 2_000,
      features: { slack: false, store: false, pagerduty: false, alertmanager: false },
      ...options.settings,
    }),
    ...(options.callTimeoutMs ? { callTimeoutMs: options.callTimeoutMs } : {}),
  });
  const app = buildApp(
    {
      temporal,
      starter,
      actions: createIncidentActions({
        temporal,
        ...(options.store ? { store: options.store } : {}),
        people: () => (options.config ?? shippedConfig).oncall.people,
      }),
      metrics,
      registry,
      requireIngestToken: ingestTokenHook(options.token, metrics),
      deployments,
      ...(options.store ? { store: options.store } : {}),
      runbooks: () => config.runbooks,
      checks: {
        checkSets: () => config.checks,
        taskQueue: options.taskQueue,
        ...(options.checkWaitTimeoutMs ? { waitTimeoutMs: options.checkWaitTimeoutMs } : {}),
        ...(options.store ? { results: createSqlCheckResultStore(options.store.sqlClient()) } : {}),
      },
    },
    { bodyLimit: options.bodyLimit ?? 1_048_576 },
  );
  return {
    app,
    temporal,
    starter,
    registry,
    deployments: memoryDeployments,
    close: async () => {
      await app.close();
      await temporal.close();
    },
  };
}

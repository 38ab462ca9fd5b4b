import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createSqlCheckResultStore } from './adapters/check-result-store';
import { createSlackClient } from './adapters/slack';
import { buildApp } from './api/app';
import { createIncidentActions } from './api/incident-actions';
import { ingestTokenHook } from './api/ingest-auth';
import { createSlackHandlers } from './api/slack/handlers';
import { startSocketMode } from './api/slack/socket-mode';
import { storeDeploymentRecorder } from './api/store-deployments';
import { buildActivities, featuresFrom, openStore } from './composition';
import { loadConfig } from './config/load-config';
import { loadEnv } from './config/env';
import { ConfigError } from './config/yaml-file';
import { durationMs } from './domain/duration';
import { createIncidentStarter, defaultIncidentSettings } from './ingest/incident-starter';
import { createApiCollectors } from './metrics/collectors';
import { createDataQualityMetrics } from './metrics/data-quality-metrics';
import { createEngineMetrics } from './metrics/engine-metrics';
import { knownEngineLabels } from './metrics/known-labels';
import { startMetricsServer } from './metrics/metrics-server';
import { openIncidentsFromTemporal } from './metrics/open-incidents';
import { createApiMetrics, createRegistry } from './metrics/registry';
import { createTemporalClient } from './temporal/client';
import { syncSchedules } from './temporal/schedules';
import { createWorker } from './worker';
import { TASK_QUEUE } from './workflows/definitions';

type Role = 'all' | 'worker' | 'api';

function parseRole(argv: string[]): Role {
  const arg = argv.find((a) => a.startsWith('--role='))?.slice('--role='.length) ?? 'all';
  if (arg !== 'all' && arg !== 'worker' && arg !== 'api')
    throw new Error(`--role must be all, worker or api (got ${arg})`);
  return arg;
}

/** Composition root: env → config → store → Temporal worker → HTTP API (one process in the embedded default). */
async function main(): Promise<void> {
  const role = parseRole(process.argv.slice(2));
  const env = loadEnv();
  const config = loadConfig(env.INCIDENTFLOW_CONFIG_DIR);
  const log = (msg: string): void => console.log(`[incidentflow] ${msg}`);

  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, shutting down`);
    for (const s of stops.reverse()) await s().catch((err: unknown) => log(`shutdown error: ${String(err)}`));
  };

  // PGlite is single-process: with the embedded store, only the process that runs the worker opens it.
  const store = role !== 'api' || env.DATABASE_URL ? await openStore(env) : undefined;
  if (store) stops.push(() => store.close());
  // One registry: in the embedded default the API's /metrics also serves the worker's engine metrics.
  const registry = createRegistry();
  const temporal = createTemporalClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  stops.push(() => temporal.close());
  const apiUrl = `http://localhost:${env.PORT}`;
  const starter = createIncidentStarter({
    temporal,
    config: () => config,
    settings: defaultIncidentSettings({
      autoResolveGraceMs: durationMs(env.INCIDENTFLOW_AUTO_RESOLVE_GRACE),
      temporalUiUrl: env.TEMPORAL_UI_URL,
      namespace: env.TEMPORAL_NAMESPACE,
      apiUrl,
      defaultSlackChannel: env.SLACK_CHANNEL,
      features: featuresFrom(env),
      ...(env.GRAFANA_URL ? { grafanaUrl: env.GRAFANA_URL } : {}),
    }),
  });

  let workerRun: Promise<void> | undefined;
  if (role !== 'api') {
    Runtime.install({
      logger: new DefaultLogger(env.INCIDENTFLOW_LOG_LEVEL === 'debug' ? 'DEBUG' : 'INFO'),
      ...(env.INCIDENTFLOW_WORKER_METRICS_PORT !== undefined
        ? {
            telemetryOptions: {
              metrics: { prometheus: { bindAddress: `0.0.0.0:${env.INCIDENTFLOW_WORKER_METRICS_PORT}` } },
            },
          }
        : {}),
      // We shut the worker down ourselves, after the API stopped taking requests.
      shutdownSignals: [],
    });
    const dqMetrics = createDataQualityMetrics(registry, Object.values(config.checks));
    const { worker, connection } = await createWorker({
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      activities: buildActivities({
        env,
        config: () => config,
        store: store!,
        metrics: createEngineMetrics(registry, knownEngineLabels(config)),
        onCheckResult: (result) => dqMetrics.observe(result, config.checks[result.checkSet]),
        starter,
      }),
      log,
    });
    workerRun = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await workerRun;
      await connection.close();
    });
    log(`worker polling task queue "${TASK_QUEUE}" on ${env.TEMPORAL_ADDRESS}`);
    if (role === 'worker' && env.INCIDENTFLOW_WORKER_APP_METRICS_PORT !== undefined) {
      const server = await startMetricsServer({
        registry,
        port: env.INCIDENTFLOW_WORKER_APP_METRICS_PORT,
        host: env.HOST,
      });
      stops.push(() => server.close());
      log(`worker metrics on ${server.url}/metrics`);
    }
  }

  if (role !== 'worker') {
    const metrics = createApiMetrics(registry);
    createApiCollectors(registry, {
      listOpenIncidents: openIncidentsFromTemporal(temporal),
      oncall: () => config.oncall,
    });
    const actions = createIncidentActions({
      temporal,
      ...(store ? { store } : {}),
      people: () => config.oncall.people,
    });
    const slackHandlers =
      env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN
        ? createSlackHandlers({
            actions,
            client: createSlackClient({
              token: env.SLACK_BOT_TOKEN ?? '',
              ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
            }),
          })
        : undefined;
    const app = buildApp(
      {
        temporal,
        starter,
        actions,
        ...(slackHandlers && env.SLACK_SIGNING_SECRET
          ? { slack: { signingSecret: env.SLACK_SIGNING_SECRET, handlers: slackHandlers } }
          : {}),
        metrics,
        registry,
        requireIngestToken: ingestTokenHook(env.INCIDENTFLOW_INGEST_TOKEN, metrics),
        deployments: storeDeploymentRecorder(store),
        ...(store ? { store } : {}),
        checks: {
          checkSets: () => config.checks,
          taskQueue: TASK_QUEUE,
          ...(store ? { results: createSqlCheckResultStore(store.sqlClient()) } : {}),
        },
        timeZone: env.INCIDENTFLOW_TIME_ZONE,
        runbooks: () => config.runbooks,
        temporalUiUrl: env.TEMPORAL_UI_URL,
      },
      {
        bodyLimit: env.INCIDENTFLOW_MAX_BODY_BYTES,
        logger: { level: env.INCIDENTFLOW_LOG_LEVEL, redact: ['req.headers.authorization'] },
      },
    );
    await app.listen({ port: env.PORT, host: env.HOST });
    stops.push(async () => {
      await app.close();
      await slackHandlers?.drain();
    });
    log(`API listening on ${apiUrl}`);
    if (slackHandlers && env.SLACK_APP_TOKEN) {
      const socket = await startSocketMode({
        appToken: env.SLACK_APP_TOKEN,
        handlers: slackHandlers,
        ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
        log: app.log,
      });
      stops.push(() => socket.stop());
      log('Slack Socket Mode connected');
    }
    void keepSchedulesInSync();
  }

  /** Creates/updates the data-quality and tuning-report schedules; retries until Temporal answers. */
  async function keepSchedulesInSync(): Promise<void> {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        const changes = await syncSchedules(temporal.client, {
          checkSets: config.checks,
          taskQueue: TASK_QUEUE,
          tuningReport: {
            cron: env.INCIDENTFLOW_TUNING_REPORT_CRON,
            channel: env.INCIDENTFLOW_TUNING_REPORT_CHANNEL ?? env.SLACK_CHANNEL,
          },
          timeZone: env.INCIDENTFLOW_TIME_ZONE,
        });
        const changed = changes.filter((c) => c.action !== 'unchanged');
        if (changed.length > 0)
          log(`schedules: ${changed.map((c) => `${c.scheduleId} ${c.action}`).join(', ')}`);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) log(`schedules not synced yet (${String(err)}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * attempt)));
      }
    }
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stop(signal).then(() => process.exit(0));
    });
  }
  if (workerRun) {
    await workerRun.catch(async (err: unknown) => {
      log(`worker stopped: ${String(err)}`);
      await stop('worker failure');
      process.exit(1);
    });
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error('[incidentflow] fatal:', err);
  }
  process.exit(1);
});

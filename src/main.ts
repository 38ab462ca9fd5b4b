import { DefaultLogger, Runtime } from '@temporalio/worker';
import { buildApp } from './api/app';
import { createIncidentActions } from './api/incident-actions';
import { createSlackHandlers } from './api/slack/handlers';
import { startSocketMode } from './api/slack/socket-mode';
import { createSlackClient } from './adapters/slack';
import { ingestTokenHook } from './api/ingest-auth';
import { storeDeploymentRecorder } from './api/store-deployments';
import { buildActivities, featuresFrom, openStore } from './composition';
import { loadConfig } from './config/load-config';
import { loadEnv } from './config/env';
import { ConfigError } from './config/yaml-file';
import { durationMs } from './domain/duration';
import { createIncidentStarter, defaultIncidentSettings } from './ingest/incident-starter';
import { createApiMetrics, createRegistry } from './metrics/registry';
import { createTemporalClient } from './temporal/client';
import { createWorker } from './worker';

type Role = 'all' | 'worker' | 'api';

function parseRole(argv: string[]): Role {
  const arg = argv.find((a) => a.startsWith('--role='))?.slice('--role='.length) ?? 'all';
  if (arg !== 'all' && arg !== 'worker' && arg !== 'api')
    throw new Error(`--role must be all, worker or api (got ${arg})`);
  return arg;
}

/** Composition root: env → config → store → Temporal worker → HTTP API. */
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
  const registry = createRegistry();

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
    const { worker, connection } = await createWorker({
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      activities: buildActivities({ env, config: () => config, store: store! }),
      log,
    });
    workerRun = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await workerRun;
      await connection.close();
    });
    log(`worker polling task queue "incidentflow" on ${env.TEMPORAL_ADDRESS}`);
  }

  if (role !== 'worker') {
    const temporal = createTemporalClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
    const metrics = createApiMetrics(registry);
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
    const actions = createIncidentActions({ temporal, ...(store ? { store } : {}) });
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
      await temporal.close();
    });
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
    log(`API listening on ${apiUrl}`);
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

/**
 * Builds the adapters and activities from the environment and the config directory. Shared by the worker,
 * the API (for its store) and the tests' real-worker harness. The only place clients are constructed.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createActivities, type ActivityDeps } from './activities';
import { systemClock, type Clock } from './activities/clock';
import { createMemoryPageLog } from './activities/page-log';
import type { ResolvedRecipients, TargetResolver } from './activities/paging.activities';
import { createAirflowClient } from './adapters/airflow';
import { createSqlCheckResultStore } from './adapters/check-result-store';
import { createSqlPageLog } from './adapters/page-log-store';
import { createKubectl } from './adapters/kubectl';
import { createPagerDutyClient } from './adapters/pagerduty';
import { createPrometheusClient } from './adapters/prometheus';
import { createSlackClient } from './adapters/slack';
import { createStore, type Store } from './adapters/store';
import { createTwilioClient } from './adapters/twilio';
import type { Env } from './config/env';
import type { AppConfig } from './config/load-config';
import { projectRoot, resolveTool } from './config/tools';
import { INCIDENT_CHANNEL } from './domain/escalation-target';
import { type OncallConfig, resolveTarget } from './domain/oncall';
import type { CheckSetResult } from './domain/data-quality';
import type { IncidentStarter } from './ingest/incident-starter';
import type { EngineMetrics } from './metrics/engine-metrics';
import type { IncidentFeatures } from './workflows/definitions';

/** Opens the incident store (PGlite under the data dir, or PostgreSQL when DATABASE_URL is set) and migrates it. */
export async function openStore(env: Pick<Env, 'DATABASE_URL' | 'INCIDENTFLOW_DATA_DIR'>): Promise<Store> {
  const dataDir = resolve(projectRoot(), env.INCIDENTFLOW_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const store = await createStore({
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    dataDir,
  });
  await store.migrate();
  return store;
}

/** Which integrations the environment configures (decides what incident workflows try). */
export function featuresFrom(env: Env): IncidentFeatures {
  return {
    slack: env.SLACK_BOT_TOKEN !== undefined,
    store: true,
    pagerduty: env.PAGERDUTY_ROUTING_KEY !== undefined,
    alertmanager: env.ALERTMANAGER_URL !== undefined,
  };
}

/** Adapts on-call resolution to what the paging activities expect. */
export function targetResolver(oncall: () => OncallConfig): TargetResolver {
  return (target, atMs): ResolvedRecipients => {
    const resolved = resolveTarget(oncall(), target, atMs);
    switch (resolved.kind) {
      case 'people':
        return {
          people: resolved.people.map((p) => ({
            id: p.id,
            name: p.name,
            ...(p.slack_user_id ? { slackUserId: p.slack_user_id } : {}),
            ...(p.phone ? { phone: p.phone } : {}),
            ...(p.email ? { email: p.email } : {}),
          })),
        };
      case 'slack_channel':
        // `$incident` is the incident's own channel, which the page request carries.
        return resolved.channel === INCIDENT_CHANNEL
          ? { people: [] }
          : { people: [], slackChannel: resolved.channel };
      case 'webhook':
        return { people: [], webhook: resolved.webhook };
      case 'unresolved':
        throw new Error(resolved.reason);
    }
  };
}

export interface BuildActivitiesOptions {
  /** Engine metrics on the worker's registry. */
  metrics?: EngineMetrics;
  /** Called with every fresh data-quality result (metrics). */
  onCheckResult?: (result: CheckSetResult) => void;
  /** The incident starter the worker uses to raise data-quality alerts through the alert path. */
  starter?: Pick<IncidentStarter, 'ingest'>;
  env: Env;
  config: () => AppConfig;
  /** Absent: learning and data-quality activities fail with NotConfigured. */
  store?: Store;
  clock?: Clock;
  /** Environment lookup for names in config (`url_env`, `connection_env`); defaults to process.env. */
  lookupEnv?: (name: string) => string | undefined;
}

/** All activities, with real clients for every integration the environment configures. */
export function buildActivities(options: BuildActivitiesOptions) {
  const { env, store } = options;
  const clock = options.clock ?? systemClock;
  const lookup = options.lookupEnv ?? ((name: string) => process.env[name]);
  const config = options.config;

  const slack = env.SLACK_BOT_TOKEN
    ? createSlackClient({
        token: env.SLACK_BOT_TOKEN,
        ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
      })
    : undefined;
  const twilio =
    env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_FROM_NUMBER
      ? createTwilioClient({
          accountSid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN,
          from: env.TWILIO_FROM_NUMBER,
          ...(env.TWILIO_API_URL ? { baseUrl: env.TWILIO_API_URL } : {}),
        })
      : undefined;
  const pagerduty = env.PAGERDUTY_ROUTING_KEY
    ? createPagerDutyClient({
        routingKey: env.PAGERDUTY_ROUTING_KEY,
        ...(env.PAGERDUTY_EVENTS_URL ? { eventsUrl: env.PAGERDUTY_EVENTS_URL } : {}),
      })
    : undefined;
  const webhooks: Record<string, { url: string; secret?: string }> = {};
  for (const [name, hook] of Object.entries(config().oncall.webhooks)) {
    const url = lookup(hook.url_env);
    const secret = hook.secret_env ? lookup(hook.secret_env) : undefined;
    if (url) webhooks[name] = { url, ...(secret ? { secret } : {}) };
  }
  const airflow = env.AIRFLOW_BASE_URL
    ? createAirflowClient({
        baseUrl: env.AIRFLOW_BASE_URL,
        username: env.AIRFLOW_USERNAME ?? '',
        password: env.AIRFLOW_PASSWORD ?? '',
        apiVersion: env.AIRFLOW_API_VERSION,
      })
    : undefined;
  const prometheus = env.PROMETHEUS_URL ? createPrometheusClient({ baseUrl: env.PROMETHEUS_URL }) : undefined;
  let kubectl: ReturnType<typeof createKubectl> | undefined;
  try {
    if (Object.keys(config().kubernetes.namespaces).length > 0) {
      kubectl = createKubectl({
        path: resolveTool('kubectl'),
        ...(env.KUBE_CONTEXT ? { context: env.KUBE_CONTEXT } : {}),
        ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
        allow: config().kubernetes,
        defaultTimeoutMs: 30_000,
      });
    }
  } catch {
    kubectl = undefined;
  }

  const deps: ActivityDeps = {
    clock,
    env: lookup,
    paging: {
      oncall: () => targetResolver(() => config().oncall),
      ...(slack ? { slack } : {}),
      ...(twilio ? { twilio } : {}),
      ...(pagerduty ? { pagerduty } : {}),
      webhooks,
      // In the store whenever there is one, so a restarted or second worker never pages twice.
      pageLog: store ? createSqlPageLog(store.sqlClient()) : createMemoryPageLog(),
    },
    people: { oncall: () => config().oncall },
    ...(store ? { store } : {}),
    learn: {
      timeZone: env.INCIDENTFLOW_TIME_ZONE,
      ...(airflow
        ? {
            fetchTaskLog: async (req) =>
              (await airflow.getTaskLog(req.dagId, req.dagRunId, req.taskId, req.tryNumber ?? 1)).content,
          }
        : {}),
    },
    ...(airflow ? { airflow } : {}),
    ...(prometheus ? { prometheus } : {}),
    ...(kubectl ? { kubectl } : {}),
    ...(env.ALERTMANAGER_URL ? { alertmanagerUrl: env.ALERTMANAGER_URL } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(store
      ? {
          dataQuality: {
            checkSets: () => config().checks,
            env: lookup,
            results: createSqlCheckResultStore(store.sqlClient()),
            ...(options.onCheckResult ? { onResult: options.onCheckResult } : {}),
          },
        }
      : {}),
    ...(store && options.starter
      ? {
          dataQualityAlerts: {
            starter: options.starter,
            checkSets: () => config().checks,
            results: createSqlCheckResultStore(store.sqlClient()),
          },
        }
      : {}),
  };
  return createActivities(deps);
}

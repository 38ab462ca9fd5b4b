import { z } from 'zod';
import { CronExpression } from '../domain/cron';

const Port = z.coerce.number().int().min(0).max(65_535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));
const optionalUrl = optionalString.refine(
  (v) => v === undefined || /^https?:\/\//.test(v),
  'must be an http(s) URL',
);

/**
 * Environment variables (DESIGN §3). Secrets and endpoints come only from here; `.env.example` documents
 * every one. Parsed once at start-up by the composition roots.
 */
export const Env = z.object({
  TEMPORAL_ADDRESS: z.string().default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_URL: z.string().default('http://localhost:8233'),
  TEMPORAL_UI_PORT: Port.default(8233),
  TEMPORAL_DB_FILE: z.string().default('.data/temporal.db'),
  PORT: Port.default(8080),
  HOST: z.string().default('0.0.0.0'),
  INCIDENTFLOW_CONFIG_DIR: z.string().default('./config'),
  INCIDENTFLOW_INGEST_TOKEN: optionalString,
  INCIDENTFLOW_AUTO_RESOLVE_GRACE: z.string().default('5m'),
  INCIDENTFLOW_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
  INCIDENTFLOW_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  INCIDENTFLOW_WORKER_METRICS_PORT: Port.optional(),
  INCIDENTFLOW_WORKER_APP_METRICS_PORT: Port.optional(),
  DATABASE_URL: optionalString,
  INCIDENTFLOW_DATA_DIR: z.string().default('.data'),
  INCIDENTFLOW_TIME_ZONE: z.string().default('UTC'),
  INCIDENTFLOW_TUNING_REPORT_CRON: CronExpression.default('0 9 1 * *'),
  INCIDENTFLOW_TUNING_REPORT_CHANNEL: optionalString,
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalUrl,
  SLACK_CHANNEL: z.string().default('#data-incidents'),
  AIRFLOW_BASE_URL: optionalUrl,
  AIRFLOW_USERNAME: optionalString,
  AIRFLOW_PASSWORD: optionalString,
  AIRFLOW_API_VERSION: z.enum(['v1', 'v2', 'auto']).default('auto'),
  PROMETHEUS_URL: optionalUrl,
  ALERTMANAGER_URL: optionalUrl,
  GRAFANA_URL: optionalUrl,
  KUBECTL_PATH: optionalString,
  KUBE_CONTEXT: optionalString,
  KUBECONFIG: optionalString,
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM_NUMBER: optionalString,
  TWILIO_API_URL: optionalUrl,
  PAGERDUTY_ROUTING_KEY: optionalString,
  PAGERDUTY_EVENTS_URL: optionalUrl,
});
export type Env = z.infer<typeof Env>;

/** Parses the environment; throws an error naming every bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

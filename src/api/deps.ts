import type { onRequestHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import type { CheckResultStore } from '../adapters/check-result-store';
import type { Store } from '../adapters/store';
import type { Runbook } from '../domain/runbook';
import type { WeakRunbookOptions } from '../domain/runbook-stats';
import type { CheckSet } from '../domain/data-quality';
import type { AlertSource } from '../domain/alert';
import type { DeploymentEvent } from '../domain/generic-alert';
import type { IncidentActions } from './incident-actions';
import type { IncidentStarter } from '../ingest/incident-starter';
import type { SlackHandlers } from './slack/handlers';
import type { ApiMetrics } from '../metrics/registry';
import type { TemporalClient } from '../temporal/client';

/** Everything the HTTP API needs, injected by the composition root (or a test). */
export interface AppDeps {
  temporal: TemporalClient;
  starter: IncidentStarter;
  /** People's actions on incidents (signals + outcomes), listing and views. */
  actions: IncidentActions;
  metrics: ApiMetrics;
  registry: Registry;
  /** onRequest hook enforcing `INCIDENTFLOW_INGEST_TOKEN` (counts rejections under `source`). */
  requireIngestToken: (source: AlertSource | 'api') => onRequestHookHandler;
  /** Where deployment markers go (the incident store). */
  deployments: DeploymentRecorder;
  /** The incident store (absent in an API-only process on the embedded database). */
  store?: Store;
  temporalUiUrl?: string;
  /** Slack ChatOps endpoints; absent (no `SLACK_SIGNING_SECRET`): `/slack/*` answers 404. */
  slack?: SlackEndpoints;
  /** Data-quality check runs (`/api/v1/checks`); absent → those routes answer 503. */
  checks?: CheckRunDeps;
  /** IANA time zone of reports (default UTC). */
  timeZone?: string;
  /** The configured runbooks (for `/api/v1/runbooks`). */
  runbooks?: () => Readonly<Record<string, Runbook>>;
  /** Flagging thresholds of weak runbooks (success rate below `threshold` over the last `lastN` runs). */
  weakRunbooks?: WeakRunbookOptions;
}

/** What `/slack/interactions` and `/slack/commands` need. */
export interface SlackEndpoints {
  /** `SLACK_SIGNING_SECRET`: verifies request signing v0. */
  signingSecret: string;
  /** The transport-independent handling (shared with Socket Mode). */
  handlers: Pick<SlackHandlers, 'handleInteraction' | 'handleSlashCommand'>;
  /** Clock for the 5-minute timestamp window (epoch ms; default `Date.now`). */
  now?: () => number;
}

/** What the `/api/v1/checks` routes need. */
export interface CheckRunDeps {
  /** The configured check sets by name. */
  checkSets: () => Readonly<Record<string, CheckSet>>;
  /** Task queue of the worker that runs `dataQualityWorkflow`. */
  taskQueue: string;
  /** Stored results, for the last run of each check set (omitted from the listing when absent). */
  results?: CheckResultStore;
  /** Upper bound of `?wait=true` (default 60 s). */
  waitTimeoutMs?: number;
}

/** Records deployment markers; `created` is false for an exact repeat. */
export interface DeploymentRecorder {
  record(event: DeploymentEvent & { time: string }): Promise<{ created: boolean }>;
}

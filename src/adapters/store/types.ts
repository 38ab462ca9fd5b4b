import type { HistoryOutcome, Hypothesis } from '../../domain/diagnosis';
import type {
  AlertOccurrence,
  DeploymentRecord,
  IncidentRecord,
  ResolutionOutcome,
  RunbookOutcome,
  RunbookRunRecord,
  StepRecord,
  StoredEvent,
  StoredIncident,
  StoredPostmortem,
} from '../../domain/incident-record';
import type { RunbookStats } from '../../domain/runbook-stats';
import type { TuningData } from '../../domain/tuning-report';

export interface StoreOptions {
  /** A PostgreSQL server (`postgres://…`); when absent, embedded PGlite under `<dataDir>/pglite`. */
  databaseUrl?: string;
  /** Data directory of the embedded default (e.g. `.data`). */
  dataDir: string;
  /** Use this schema instead of public (tests isolate themselves with a random one). */
  schema?: string;
  /** Migration files (default: the store's own `migrations/`). */
  migrationsDir?: string;
  /** Pool size for a PostgreSQL server (default 10). */
  poolSize?: number;
  /** Errors of idle pooled connections (the pool drops them either way). */
  onIdleError?: (err: Error) => void;
}

/** An earlier incident like the current one, with how it ended. */
export interface SimilarIncident {
  incidentKey: string;
  number?: string;
  incidentType: string;
  service: string;
  openedAt: string;
  resolvedAt?: string;
  ttrSeconds?: number;
  outcome?: ResolutionOutcome;
  resolvedBy?: string;
  runbook?: string;
  rootCause?: string;
  rootCauseConfirmed: boolean;
  fix?: string;
  /** Outcome of its latest runbook run, if any ran. */
  runbookOutcome?: RunbookOutcome;
  /** True when it shares an alert fingerprint with the current incident. */
  fingerprintMatch: boolean;
}

export interface StoredDiagnosis {
  incidentKey: string;
  diagnosisId: string;
  at: string;
  hypotheses: Hypothesis[];
  signaturesVersion: number;
}

export type IncidentListStatus = 'open' | 'resolved' | 'all';

/**
 * The incident store. Every write is an idempotent upsert keyed by the incident (and step, seq,
 * fingerprint, runbook…): the same call twice leaves one row. `idOrNumber` accepts an incident key,
 * an incident number (`INC-20261125-003`) or a workflow id (its latest incident).
 */
export interface Store {
  readonly driver: 'pglite' | 'postgres';
  /** The store's own connection, for modules that keep tables in the same database (data-quality results). */
  sqlClient(): { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }> };
  /** Applies pending migrations; returns the files applied now (none on a second run). */
  migrate(): Promise<string[]>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** `INC-YYYYMMDD-NNN`, sequential per UTC day of `openedAt`; the same key always gets the same number. */
  allocateIncidentNumber(incidentKey: string, openedAt: string): Promise<string>;
  upsertIncident(record: IncidentRecord): Promise<void>;
  upsertStep(record: StepRecord): Promise<void>;
  upsertSteps(records: readonly StepRecord[]): Promise<void>;
  /** Upserts timeline entries by (incident, seq). */
  appendEvents(incidentKey: string, events: readonly StoredEvent[]): Promise<void>;
  recordAlerts(incidentKey: string, alerts: readonly AlertOccurrence[]): Promise<void>;
  recordDeployment(deployment: DeploymentRecord): Promise<void>;
  /** Deployments of any of `services` in [sinceMs, untilMs], newest first. */
  recentDeployments(
    services: string | readonly string[],
    sinceMs: number,
    untilMs: number,
  ): Promise<DeploymentRecord[]>;
  /**
   * Resolved incidents of the same type and service, or sharing a fingerprint; fingerprint matches
   * first, then newest first.
   */
  similarIncidents(query: {
    incidentType: string;
    service: string;
    fingerprint?: string;
    fingerprints?: readonly string[];
    excludeIncidentKey?: string;
    limit?: number;
  }): Promise<SimilarIncident[]>;
  recordRunbookRun(run: RunbookRunRecord): Promise<void>;
  /** Success rates over the last `lastN` runs of each runbook (default 50). */
  runbookStats(query?: { runbook?: string; incidentType?: string; lastN?: number }): Promise<RunbookStats>;
  /** Recorded cause → fix outcomes (runbook runs, and manual fixes) of incidents with these root causes. */
  causeFixOutcomes(cause: string | readonly string[], limit?: number): Promise<HistoryOutcome[]>;
  saveDiagnosis(diagnosis: StoredDiagnosis): Promise<void>;
  latestDiagnosis(incidentKey: string): Promise<StoredDiagnosis | undefined>;
  savePostmortem(postmortem: { incidentKey: string; markdown: string; generatedAt: string }): Promise<void>;
  getPostmortem(idOrNumber: string): Promise<StoredPostmortem | undefined>;
  /** Marks reviewed (the first review is kept); undefined when there is no postmortem. */
  markPostmortemReviewed(
    idOrNumber: string,
    reviewer: string,
    at: string,
  ): Promise<StoredPostmortem | undefined>;
  getIncident(idOrNumber: string): Promise<StoredIncident | undefined>;
  getIncidentEvents(incidentKey: string): Promise<StoredEvent[]>;
  getIncidentSteps(incidentKey: string): Promise<StepRecord[]>;
  listIncidents(query?: {
    status?: IncidentListStatus;
    limit?: number;
    service?: string;
  }): Promise<StoredIncident[]>;
  /** Alerts first fired and incidents opened in [fromMs, toMs). */
  tuningData(query: { fromMs: number; toMs: number }): Promise<TuningData>;
}

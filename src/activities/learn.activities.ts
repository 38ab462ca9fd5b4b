import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '../adapters/store';
import { incidentArchive } from '../adapters/store/incident-archive';
import { Cause } from '../domain/causes';
import {
  affectedServices,
  DEFAULT_DEPLOYMENT_WINDOW_MS,
  diagnose,
  type DiagnosisOptions,
  type HistoryOutcome,
  type Hypothesis,
} from '../domain/diagnosis';
import { ErrorType } from '../domain/errors';
import type {
  AlertOccurrence,
  DeploymentRecord,
  IncidentRecord,
  RunbookOutcome,
  StepRecord,
  StoredEvent,
} from '../domain/incident-record';
import { LOG_SIGNATURES_VERSION } from '../domain/log-signatures';
import { renderPostmortem } from '../domain/postmortem';
import {
  flagWeakRunbooks,
  orderSuggestions,
  type RunbookSuggestion,
  type WeakRunbook,
  type WeakRunbookOptions,
} from '../domain/runbook-stats';
import { toMs } from '../domain/time-format';
import {
  buildTuningReport as buildReport,
  renderTuningReport,
  type TuningReport,
} from '../domain/tuning-report';
import type { Clock } from './clock';

/** Identifies a failed Airflow task instance whose log the diagnosis reads. */
export interface TaskLogRequest {
  dagId: string;
  dagRunId: string;
  taskId: string;
  tryNumber?: number;
}

export interface LearnDeps {
  store: Store;
  /** Reads a task's log (Airflow); undefined when there is none. Failures do not fail the diagnosis. */
  fetchTaskLog?: (req: TaskLogRequest) => Promise<string | undefined>;
  clock: Clock;
  /** IANA time zone for postmortems, evidence and reports (default UTC). */
  timeZone?: string;
  diagnosis?: Omit<DiagnosisOptions, 'timeZone'>;
  weakRunbooks?: WeakRunbookOptions;
  /** Recent runs per runbook that feed success rates (default 50). */
  statsWindow?: number;
  /** A postmortem not reviewed within this is overdue (default 24 h). */
  postmortemReviewMs?: number;
}

export interface DiagnoseIncidentInput {
  incident: {
    incidentKey: string;
    incidentType: string;
    service: string;
    labels: Record<string, string>;
    openedAt: string;
    /** When failures started (e.g. the first alert's `startsAt`); defaults to `openedAt`. */
    failureStartedAt?: string;
    fingerprints?: string[];
  };
  /** The failed task, when known: its log is matched against the signature table. */
  failedTask?: TaskLogRequest;
  /** Keeps several diagnoses of one incident apart (default `main`). */
  diagnosisId?: string;
}

export interface DiagnoseIncidentResult {
  hypotheses: Hypothesis[];
  signaturesVersion: number;
  diagnosedAt: string;
  /** Deployments considered (newest first). */
  deployments: DeploymentRecord[];
  /** Whether the task log was read. */
  log: 'fetched' | 'empty' | 'failed' | 'not_requested';
  /** Earlier similar incidents with a known cause that informed the ranking. */
  similarIncidents: number;
}

export interface RunbookSuggestionsResult {
  suggestions: RunbookSuggestion[];
  /** Weak runbooks among the candidates. */
  flagged: WeakRunbook[];
}

export interface FinishIncidentInput {
  /** The incident's final record (status, resolvedAt, outcome, resolvedBy, runbook, fix…). */
  incident: IncidentRecord;
  /** Runbooks that ran in this incident and how they ended. */
  runbookRuns?: Array<{ runbook: string; outcome: RunbookOutcome; finishedAt: string }>;
  /** A root cause a person confirmed. */
  confirmedCause?: string;
}

export interface FinishIncidentResult {
  /** Root cause stored (confirmed, given, or inferred from the diagnosis). */
  rootCause?: string;
  rootCauseConfirmed: boolean;
  /** Runbooks of this incident that now need a person to improve them. */
  flagged: WeakRunbook[];
}

export interface GeneratePostmortemInput {
  incidentKey: string;
  /** One-line "What" (defaults to the title). */
  what?: string;
  /** Extra "Why" lines. */
  why?: string[];
  /** The runbook's `prevention` list. */
  prevention?: string[];
}

export interface GeneratePostmortemResult {
  number?: string;
  markdown: string;
  generatedAt: string;
}

export interface PostmortemStatus {
  exists: boolean;
  number?: string;
  generatedAt?: string;
  reviewedAt?: string;
  reviewer?: string;
  /** generatedAt + review window. */
  reviewDueAt?: string;
  /** Generated, not reviewed, and past its review deadline. */
  overdue: boolean;
}

export interface TuningReportResult {
  report: TuningReport;
  markdown: string;
}

const DAY_MS = 86_400_000;

/** True for an archived item that has the fields a timeline entry needs. */
function isTimelineEntry(
  entry: Record<string, unknown>,
): entry is { at: string; kind: string; text: string; actor?: string } {
  return typeof entry.at === 'string' && typeof entry.kind === 'string' && typeof entry.text === 'string';
}

/**
 * Activities of the "Learn" layer: record incidents, steps, timelines and alerts, diagnose, rank
 * runbooks by their record, finish incidents, draft postmortems and build the tuning report. Every
 * activity is idempotent (store upserts keyed by the incident), so Temporal retries are safe.
 */
export function createLearnActivities(deps: LearnDeps) {
  const { store, clock } = deps;
  const timeZone = deps.timeZone ?? 'UTC';
  const statsWindow = deps.statsWindow ?? 50;
  const windowMs = deps.diagnosis?.deploymentWindowMs ?? DEFAULT_DEPLOYMENT_WINDOW_MS;
  const nowIso = (): string => new Date(clock.now()).toISOString();

  async function weakAmong(runbooks: readonly string[]): Promise<WeakRunbook[]> {
    if (runbooks.length === 0) return [];
    const stats = await store.runbookStats({ lastN: statsWindow });
    const wanted = new Set(runbooks);
    return flagWeakRunbooks(stats, deps.weakRunbooks).filter((w) => wanted.has(w.runbook));
  }

  return {
    /** `INC-YYYYMMDD-NNN` for the incident; the same incident always gets the same number. */
    async allocateIncidentNumber(input: {
      incidentKey: string;
      openedAt: string;
    }): Promise<{ number: string }> {
      return { number: await store.allocateIncidentNumber(input.incidentKey, input.openedAt) };
    },

    /** Upserts the incident (merge rules: see `IncidentRecord`). */
    async recordIncident(record: IncidentRecord): Promise<void> {
      await store.upsertIncident(record);
    },

    /** Upserts runbook steps by (incident, step, attempt group). */
    async recordSteps(input: { steps: StepRecord[] }): Promise<void> {
      await store.upsertSteps(input.steps);
    },

    /** Upserts timeline entries by (incident, seq). */
    async recordTimeline(input: { incidentKey: string; events: StoredEvent[] }): Promise<void> {
      await store.appendEvents(input.incidentKey, input.events);
    },

    /** Upserts the incident's alerts by fingerprint (for the tuning report). */
    async recordAlerts(input: { incidentKey: string; alerts: AlertOccurrence[] }): Promise<void> {
      await store.recordAlerts(input.incidentKey, input.alerts);
    },

    /**
     * Ranks root-cause hypotheses from recent deployments, the failed task's log (when known), similar
     * incidents and recorded fix outcomes; stores them under (incident, diagnosisId).
     */
    async diagnoseIncident(input: DiagnoseIncidentInput): Promise<DiagnoseIncidentResult> {
      const inc = input.incident;
      const openedAtMs = toMs(inc.openedAt);
      const startMs = inc.failureStartedAt ? toMs(inc.failureStartedAt) : openedAtMs;
      const deployments = await store.recentDeployments(
        affectedServices(inc),
        startMs - windowMs,
        Math.max(startMs, openedAtMs),
      );

      let log: DiagnoseIncidentResult['log'] = 'not_requested';
      let logText: string | undefined;
      if (input.failedTask && deps.fetchTaskLog) {
        try {
          logText = await deps.fetchTaskLog(input.failedTask);
          log = logText ? 'fetched' : 'empty';
        } catch {
          // A missing log weakens the diagnosis; it must not fail it.
          log = 'failed';
        }
      }

      const similar = await store.similarIncidents({
        incidentType: inc.incidentType,
        service: inc.service,
        fingerprints: inc.fingerprints ?? [],
        excludeIncidentKey: inc.incidentKey,
        limit: 20,
      });
      const history: HistoryOutcome[] = similar.flatMap((s) =>
        s.rootCause === undefined
          ? []
          : [
              {
                cause: s.rootCause,
                ...(s.runbookOutcome && s.runbook ? { fix: s.runbook } : {}),
                success: s.runbookOutcome ? s.runbookOutcome === 'success' : s.outcome !== 'cancelled',
              },
            ],
      );
      const causes = [...new Set([...Cause.options, ...history.map((h) => h.cause)])];
      const outcomes = await store.causeFixOutcomes(causes);

      const hypotheses = diagnose(
        {
          incident: {
            type: inc.incidentType,
            service: inc.service,
            labels: inc.labels,
            openedAtMs,
            ...(inc.failureStartedAt ? { failureStartedAtMs: startMs } : {}),
          },
          deployments: deployments.map((d) => ({
            service: d.service,
            version: d.version,
            atMs: toMs(d.at),
            ...(d.description ? { description: d.description } : {}),
          })),
          ...(logText ? { logText } : {}),
          history,
          outcomes,
        },
        { ...deps.diagnosis, timeZone },
      );
      const diagnosedAt = nowIso();
      await store.saveDiagnosis({
        incidentKey: inc.incidentKey,
        diagnosisId: input.diagnosisId ?? 'main',
        at: diagnosedAt,
        hypotheses,
        signaturesVersion: LOG_SIGNATURES_VERSION,
      });
      return {
        hypotheses,
        signaturesVersion: LOG_SIGNATURES_VERSION,
        diagnosedAt,
        deployments,
        log,
        similarIncidents: history.length,
      };
    },

    /** Orders candidate runbooks by their success rate for this incident type and flags weak ones. */
    async runbookSuggestions(input: {
      incidentType: string;
      candidates: string[];
    }): Promise<RunbookSuggestionsResult> {
      const stats = await store.runbookStats({ lastN: statsWindow });
      const wanted = new Set(input.candidates);
      return {
        suggestions: orderSuggestions(input.candidates, stats, { incidentType: input.incidentType }),
        flagged: flagWeakRunbooks(stats, deps.weakRunbooks).filter((w) => wanted.has(w.runbook)),
      };
    },

    /**
     * Writes the final incident (outcome, timings, root cause) and its runbook runs; returns the
     * runbooks of this incident that are now weak. The root cause is the confirmed one, else the one
     * in the record, else the best hypothesis of the latest diagnosis whose suggested runbook
     * succeeded here, else the top hypothesis (stored as unconfirmed).
     */
    async finishIncident(input: FinishIncidentInput): Promise<FinishIncidentResult> {
      const inc = input.incident;
      const runs = input.runbookRuns ?? [];
      let rootCause = input.confirmedCause ?? inc.rootCause;
      let confirmed =
        input.confirmedCause !== undefined ||
        (inc.rootCause !== undefined && inc.rootCauseConfirmed === true);
      if (rootCause === undefined) {
        const diagnosis = await store.latestDiagnosis(inc.incidentKey);
        const succeeded = new Set(runs.filter((r) => r.outcome === 'success').map((r) => r.runbook));
        const hypotheses = diagnosis?.hypotheses ?? [];
        const fixed = hypotheses.find((h) => h.suggestedRunbook && succeeded.has(h.suggestedRunbook));
        rootCause = (fixed ?? hypotheses[0])?.cause;
        confirmed = false;
      }
      await store.upsertIncident({
        ...inc,
        ...(rootCause !== undefined ? { rootCause, rootCauseConfirmed: confirmed } : {}),
      });
      for (const run of runs) {
        await store.recordRunbookRun({
          incidentKey: inc.incidentKey,
          runbook: run.runbook,
          incidentType: inc.incidentType,
          outcome: run.outcome,
          finishedAt: run.finishedAt,
        });
      }
      return {
        ...(rootCause !== undefined ? { rootCause } : {}),
        rootCauseConfirmed: rootCause !== undefined && confirmed,
        flagged: await weakAmong(runs.map((r) => r.runbook)),
      };
    },

    /**
     * Renders the postmortem draft from the incident's stored record and saves it. Regenerating
     * keeps the first `generatedAt` (the review deadline does not move).
     */
    async generatePostmortem(input: GeneratePostmortemInput): Promise<GeneratePostmortemResult> {
      const incident = await store.getIncident(input.incidentKey);
      if (!incident) {
        throw ApplicationFailure.create({
          type: ErrorType.NotFound,
          message: `incident ${input.incidentKey} is not in the store`,
          nonRetryable: true,
        });
      }
      const key = incident.incidentKey;
      const [archived, stored, steps, diagnosis, existing] = await Promise.all([
        incidentArchive(store.sqlClient()).read(key, 'timeline'),
        store.getIncidentEvents(key),
        store.getIncidentSteps(key),
        store.latestDiagnosis(key),
        store.getPostmortem(key),
      ]);
      // Entries the running incident archived to stay within its size budget come first.
      const events = [...archived.map((a) => a.entry).filter(isTimelineEntry), ...stored];
      const openedMs = toMs(incident.openedAt);
      const deployments = await store.recentDeployments(
        affectedServices(incident),
        openedMs - windowMs,
        incident.resolvedAt ? toMs(incident.resolvedAt) : clock.now(),
      );
      const markdown = renderPostmortem({
        incident,
        ...(input.what ? { what: input.what } : {}),
        events,
        deployments: [...deployments].reverse(),
        hypotheses: diagnosis?.hypotheses ?? [],
        ...(input.why ? { why: input.why } : {}),
        steps,
        ...(input.prevention ? { prevention: input.prevention } : {}),
        timeZone,
      });
      const generatedAt = existing?.generatedAt ?? nowIso();
      await store.savePostmortem({ incidentKey: key, markdown, generatedAt });
      return { ...(incident.number ? { number: incident.number } : {}), markdown, generatedAt };
    },

    /** Whether the incident's postmortem exists, was reviewed, and is past its review deadline. */
    async postmortemStatus(input: { incidentKey: string }): Promise<PostmortemStatus> {
      const pm = await store.getPostmortem(input.incidentKey);
      if (!pm) return { exists: false, overdue: false };
      const dueMs = toMs(pm.generatedAt) + (deps.postmortemReviewMs ?? DAY_MS);
      return {
        exists: true,
        ...(pm.number ? { number: pm.number } : {}),
        generatedAt: pm.generatedAt,
        ...(pm.reviewedAt ? { reviewedAt: pm.reviewedAt } : {}),
        ...(pm.reviewer ? { reviewer: pm.reviewer } : {}),
        reviewDueAt: new Date(dueMs).toISOString(),
        overdue: pm.reviewedAt === undefined && clock.now() > dueMs,
      };
    },

    /** The alert-tuning report over [fromMs, toMs), as data and as Slack markdown. */
    async buildTuningReport(input: {
      fromMs: number;
      toMs: number;
      flapThreshold?: number;
      top?: number;
    }): Promise<TuningReportResult> {
      const data = await store.tuningData({ fromMs: input.fromMs, toMs: input.toMs });
      const report = buildReport(data, {
        ...(input.flapThreshold !== undefined ? { flapThreshold: input.flapThreshold } : {}),
        ...(input.top !== undefined ? { top: input.top } : {}),
      });
      return { report, markdown: renderTuningReport(report, timeZone) };
    },
  };
}

export type LearnActivities = ReturnType<typeof createLearnActivities>;

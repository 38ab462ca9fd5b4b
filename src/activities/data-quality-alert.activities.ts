import { ApplicationFailure } from '@temporalio/common';
import type { CheckResultStore } from '../adapters/check-result-store';
import type { CheckSet, CheckSetResult, Outcome } from '../domain/data-quality';
import {
  type DataQualityAlertKind,
  type DataQualityAlertPlan,
  dataQualityAlert,
} from '../domain/data-quality-alert';
import { ErrorType } from '../domain/errors';
import type { IncidentStarter, IngestedIncident } from '../ingest/incident-starter';
import { isTemporalUnavailable } from '../temporal/client';
import type { Clock } from './clock';

export interface DataQualityAlertDeps {
  /**
   * The incident starter of the alert ingress (routing + signal-with-start). The worker's composition
   * root builds one on a Temporal client, exactly like the API's.
   */
  starter: Pick<IncidentStarter, 'ingest'>;
  /** The current check sets by name (labels: DAG, downstream DAGs, owners, severity). */
  checkSets: () => Readonly<Record<string, CheckSet>>;
  /** Where the data-quality results are kept (the earlier outcomes). */
  results: CheckResultStore;
  clock: Clock;
}

export interface RaiseDataQualityAlertInput {
  result: CheckSetResult;
  /** Name of the check set (labels are read from its current configuration). */
  checkSet: string;
  /** Default: `error` for an `error` outcome, else `violation`. */
  kind?: DataQualityAlertKind;
  /** Default: `firing` for `fail`/`error` outcomes, else `resolved`. */
  status?: 'firing' | 'resolved';
}

export interface RaisedDataQualityAlert {
  name: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  /** Incidents the alert started, joined or found closed (`no_open_incident`). */
  incidents: IngestedIncident[];
  /** 1 when the ingress dropped it as an exact re-delivery. */
  duplicates: number;
}

/** An earlier run of a check set, newest first. */
export interface EarlierDataQualityRun {
  runKey: string;
  outcome: Outcome;
  startedAt: string;
}

const HISTORY_LIMIT = 20;

/**
 * Activities that turn data-quality results into incidents through the alert ingress path.
 * - `raiseDataQualityAlert` builds the `DataQualityCheckFailed` / `DataQualityCheckError` alert and
 *   delivers it with the incident starter. Idempotent: the alert's identity (fingerprint, status and the
 *   run's start) makes a retried delivery an exact duplicate, which the ingress and the incident drop.
 *   Temporal unreachable → retryable `Unavailable`.
 * - `earlierDataQualityRuns` lists the outcomes of the runs before a given one (for pass-after-fail).
 */
export function createDataQualityAlertActivities(deps: DataQualityAlertDeps) {
  return {
    async raiseDataQualityAlert(input: RaiseDataQualityAlertInput): Promise<RaisedDataQualityAlert> {
      const { result } = input;
      const plan: DataQualityAlertPlan = {
        kind: input.kind ?? (result.outcome === 'error' ? 'error' : 'violation'),
        status:
          input.status ?? (result.outcome === 'fail' || result.outcome === 'error' ? 'firing' : 'resolved'),
      };
      const alert = dataQualityAlert(
        result,
        deps.checkSets()[input.checkSet],
        plan,
        new Date(deps.clock.now()).toISOString(),
      );
      try {
        const ingested = await deps.starter.ingest([alert]);
        return {
          name: alert.name,
          fingerprint: alert.fingerprint,
          status: alert.status,
          incidents: ingested.incidents,
          duplicates: ingested.duplicates,
        };
      } catch (err) {
        if (isTemporalUnavailable(err)) {
          throw ApplicationFailure.create({
            type: ErrorType.Unavailable,
            message: `Temporal is unreachable; ${alert.name} for ${input.checkSet} not delivered yet`,
          });
        }
        throw err;
      }
    },

    /** Earlier runs of a check set (newest first, at most 20), excluding `runKey` and later runs. */
    async earlierDataQualityRuns(input: {
      checkSet: string;
      runKey: string;
      before: string;
    }): Promise<EarlierDataQualityRun[]> {
      const before = Date.parse(input.before);
      const runs = await deps.results.recentRuns({ checkSet: input.checkSet, limit: HISTORY_LIMIT + 1 });
      return runs
        .filter((r) => r.runKey !== input.runKey && Date.parse(r.startedAt) <= before)
        .slice(0, HISTORY_LIMIT)
        .map((r) => ({ runKey: r.runKey, outcome: r.outcome, startedAt: r.startedAt }));
    },
  };
}

export type DataQualityAlertActivities = ReturnType<typeof createDataQualityAlertActivities>;

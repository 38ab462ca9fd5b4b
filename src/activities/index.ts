import { ApplicationFailure } from '@temporalio/common';
import { Registry } from 'prom-client';
import type { AirflowClient } from '../adapters/airflow';
import type { Kubectl } from '../adapters/kubectl';
import type { PrometheusClient } from '../adapters/prometheus';
import type { Store } from '../adapters/store';
import { ErrorType } from '../domain/errors';
import { createEngineMetrics, type EngineMetrics } from '../metrics/engine-metrics';
import { createAirflowActivities } from './airflow.activities';
import { createAlertmanagerActivities } from './alertmanager.activities';
import { createArchiveActivities } from './archive.activities';
import { type Clock, systemClock } from './clock';
import { createDataQualityActivities, type DataQualityDeps } from './data-quality.activities';
import { createDataQualityAlertActivities, type DataQualityAlertDeps } from './data-quality-alert.activities';
import { createHttpActivities } from './http.activities';
import { createKubeActivities } from './kube.activities';
import { createLearnActivities, type LearnDeps } from './learn.activities';
import { createMetricsActivities } from './metrics.activities';
import { createPagingActivities, type PagingDeps } from './paging.activities';
import { createPeopleActivities, type PeopleDeps } from './people.activities';
import { createPrometheusActivities } from './prometheus.activities';

export type { PageResult, PageRequest } from './paging.activities';

/** Everything the activities need; the worker's composition root builds it from env and config. */
export interface ActivityDeps {
  clock: Clock;
  env: (name: string) => string | undefined;
  paging: Omit<PagingDeps, 'clock'>;
  people: PeopleDeps;
  /** Absent in tests that exercise no learning: learn activities then fail with NotConfigured. */
  store?: Store;
  learn?: Omit<LearnDeps, 'store' | 'clock'>;
  /** Absent when AIRFLOW_BASE_URL is not set: Airflow steps then fail with NotConfigured. */
  airflow?: AirflowClient;
  prometheus?: PrometheusClient;
  kubectl?: Kubectl;
  alertmanagerUrl?: string;
  dataQuality?: Omit<DataQualityDeps, 'clock'>;
  /**
   * Engine metrics on the worker's registry. Absent: `recordIncidentMetrics` still exists (workflows call
   * it unconditionally) and counts into a private registry nobody scrapes.
   */
  metrics?: EngineMetrics;
  /** Absent when the worker has no Temporal client for the incident starter: raising DQ alerts then fails. */
  dataQualityAlerts?: Omit<DataQualityAlertDeps, 'clock'>;
}

/** Replaces every activity of a group with one that fails for good, naming what is not configured. */
function notConfigured<T extends object>(group: T, message: string): T {
  return Object.fromEntries(
    Object.keys(group).map((name) => [
      name,
      () =>
        Promise.reject(
          ApplicationFailure.create({ type: ErrorType.NotConfigured, message, nonRetryable: true }),
        ),
    ]),
  ) as T;
}

const unused = {} as never;

/**
 * All activities of the incidentflow worker. Integrations that are not configured keep their activity
 * names (workflow code is the same everywhere) but fail with a final `NotConfigured`.
 */
export function createActivities(deps: ActivityDeps) {
  const { clock } = deps;
  const airflow = deps.airflow
    ? createAirflowActivities({ airflow: deps.airflow, clock })
    : notConfigured(
        createAirflowActivities({ airflow: unused, clock }),
        'Airflow is not configured (AIRFLOW_BASE_URL)',
      );
  const prometheus = deps.prometheus
    ? createPrometheusActivities({ prometheus: deps.prometheus, clock })
    : notConfigured(
        createPrometheusActivities({ prometheus: unused, clock }),
        'Prometheus is not configured (PROMETHEUS_URL)',
      );
  // kubectl waits in real time (a real process, a real API server): its heartbeats pace on the wall clock
  // even when a test drives the polling activities with a time-skipping clock.
  const kube = deps.kubectl
    ? createKubeActivities({ kubectl: deps.kubectl, clock: systemClock })
    : notConfigured(
        createKubeActivities({ kubectl: unused, clock }),
        'kubectl is not available (KUBECTL_PATH / config/kubernetes.yaml)',
      );
  const metrics =
    deps.metrics ??
    createEngineMetrics(new Registry(), { incidentTypes: [], severities: [], runbooks: {}, channels: [] });
  return {
    ...createMetricsActivities(metrics),
    ...createPagingActivities({ ...deps.paging, clock }),
    ...createPeopleActivities(deps.people),
    ...(deps.store
      ? createLearnActivities({ ...deps.learn, store: deps.store, clock })
      : notConfigured(
          createLearnActivities({ store: unused, clock }),
          'the incident store is not configured',
        )),
    ...(deps.store
      ? createArchiveActivities({ store: deps.store })
      : notConfigured(createArchiveActivities({ store: unused }), 'the incident store is not configured')),
    ...airflow,
    ...prometheus,
    ...kube,
    ...createHttpActivities({ env: deps.env, clock }),
    ...createAlertmanagerActivities({
      ...(deps.alertmanagerUrl ? { baseUrl: deps.alertmanagerUrl } : {}),
      clock,
    }),
    ...(deps.dataQuality
      ? createDataQualityActivities({ ...deps.dataQuality, clock })
      : notConfigured(
          createDataQualityActivities({
            checkSets: () => ({}),
            env: () => undefined,
            results: unused,
            clock,
          }),
          'data-quality checks are not configured',
        )),
    ...(deps.dataQualityAlerts
      ? createDataQualityAlertActivities({ ...deps.dataQualityAlerts, clock })
      : notConfigured(
          createDataQualityAlertActivities({
            starter: unused,
            checkSets: () => ({}),
            results: unused,
            clock,
          }),
          'data-quality alerts are not configured (the worker needs the incident starter)',
        )),
  };
}

/** The activity interface workflows proxy (`import type` only). */
export type Activities = ReturnType<typeof createActivities>;

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Clock } from '../../src/activities/clock';
import type { Store } from '../../src/adapters/store';
import { buildActivities } from '../../src/composition';
import { type Env, loadEnv } from '../../src/config/env';
import type { AppConfig } from '../../src/config/load-config';
import { shippedConfig } from './app';
import { workflowBundle } from './temporal';

export interface TestWorkerOptions {
  taskQueue: string;
  /** Environment of the worker (double URLs, tokens); nothing from the real environment leaks in. */
  env?: Record<string, string>;
  config?: AppConfig;
  store?: Store;
  clock?: Clock;
  /**
   * Real activities the production composition root builds on top of `buildActivities` (e.g. the
   * data-quality alert activities, which need the API's incident starter); they replace same-named ones.
   */
  activities?: object;
}

/**
 * A worker with the REAL activities (built like the production composition root) pointed at whatever the
 * test's environment names: doubles for Slack/Twilio/PagerDuty/Airflow/Kubernetes, real Prometheus.
 */
export async function startTestWorker(env: TestWorkflowEnvironment, options: TestWorkerOptions) {
  const vars: Record<string, string> = { ...options.env };
  const workerEnv: Env = loadEnv(vars);
  const config = options.config ?? shippedConfig;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...buildActivities({
        env: workerEnv,
        config: () => config,
        ...(options.store ? { store: options.store } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        lookupEnv: (name) => vars[name],
      }),
      ...options.activities,
    },
  });
  const running = worker.run();
  return {
    worker,
    running,
    async stop(): Promise<void> {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

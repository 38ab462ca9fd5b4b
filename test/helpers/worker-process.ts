/**
 * A real incidentflow worker in its own process, so crash tests can SIGKILL it. Configured by the JSON in
 * INCIDENTFLOW_TEST_WORKER: { address, taskQueue, configDir, env, store?, workflowBundlePath?,
 * killOnActivity? }. Prints "ready" once polling.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { buildActivities } from '../../src/composition';
import { createStore, type StoreOptions } from '../../src/adapters/store';
import { loadEnv } from '../../src/config/env';
import { loadConfig } from '../../src/config/load-config';
import { type KillOnActivity, killOnActivityInterceptor } from '../chaos/kill-interceptor';

interface Options {
  address: string;
  taskQueue: string;
  configDir: string;
  env: Record<string, string>;
  /** An already migrated store (PostgreSQL schema) the activities write to. */
  store?: StoreOptions;
  /** A prebuilt workflow bundle (saves bundling in every process). */
  workflowBundlePath?: string;
  /** Chaos: SIGKILL the process group when this activity starts its first attempt. */
  killOnActivity?: KillOnActivity;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.INCIDENTFLOW_TEST_WORKER ?? '{}') as Options;
  const config = loadConfig(options.configDir);
  const store = options.store ? await createStore(options.store) : undefined;
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    taskQueue: options.taskQueue,
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: require.resolve('../../src/workflows') }),
    activities: buildActivities({
      env: loadEnv(options.env),
      config: () => config,
      lookupEnv: (name) => options.env[name],
      ...(store ? { store } : {}),
    }),
    ...(options.killOnActivity
      ? { interceptors: { activity: [killOnActivityInterceptor(options.killOnActivity)] } }
      : {}),
  });
  const running = worker.run();
  console.log('ready');
  await running;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * A real incidentflow worker in its own process, so crash tests can SIGKILL it. Configured by the JSON in
 * INCIDENTFLOW_TEST_WORKER: { address, taskQueue, configDir, env }. Prints "ready" once polling.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { buildActivities } from '../../src/composition';
import { loadEnv } from '../../src/config/env';
import { loadConfig } from '../../src/config/load-config';

interface Options {
  address: string;
  taskQueue: string;
  configDir: string;
  env: Record<string, string>;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.INCIDENTFLOW_TEST_WORKER ?? '{}') as Options;
  const config = loadConfig(options.configDir);
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../../src/workflows'),
    activities: buildActivities({
      env: loadEnv(options.env),
      config: () => config,
      lookupEnv: (name) => options.env[name],
    }),
  });
  const running = worker.run();
  console.log('ready');
  await running;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

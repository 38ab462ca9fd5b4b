import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { ensureSearchAttributes } from './temporal/search-attributes';
import { TASK_QUEUE } from './workflows/definitions';

export interface WorkerSetup {
  address: string;
  namespace: string;
  activities: WorkerOptions['activities'];
  taskQueue?: string;
  log?: (msg: string) => void;
}

/** Where the workflow code comes from: a prebuilt bundle when present (production image), else sources. */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = join(__dirname, 'workflow-bundle.js');
  if (existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  return { workflowsPath: require.resolve('./workflows') };
}

/**
 * Connects, makes sure the incident search attributes exist (creating missing ones: a persisted dev-server
 * database ignores later `--search-attribute` flags) and creates the worker. Call `run()` on the result.
 */
export async function createWorker(
  setup: WorkerSetup,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: setup.address });
  const created = await ensureSearchAttributes(connection, setup.namespace);
  if (created.length > 0) setup.log?.(`registered missing search attributes: ${created.join(', ')}`);
  const worker = await Worker.create({
    connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue ?? TASK_QUEUE,
    ...workflowSource(),
    activities: setup.activities,
    shutdownGraceTime: '20s',
    shutdownForceTime: '40s',
  });
  return { worker, connection };
}

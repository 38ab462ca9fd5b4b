/**
 * Runs the Airflow API double standalone for the demo (`npm start` starts it when AIRFLOW_BASE_URL is not
 * set), seeded with the seed document's scenario 1: `customer_etl` (extract → transform → load) whose
 * transform failed on a transient DB connection error; the next execution fails once more, the one after
 * succeeds. Serves both /api/v1 and /api/v2 with admin/admin.
 *
 *   node --import tsx scripts/airflow-double.ts [port]      (port: argv[2], AIRFLOW_DOUBLE_PORT, 4011)
 *
 * The first stdout line is `AIRFLOW_BASE_URL=<url>`.
 */
import { startAirflowDouble } from '../test/doubles/airflow-double';

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.AIRFLOW_DOUBLE_PORT ?? 4011);
  const double = await startAirflowDouble({ port });
  const runId = `scheduled__${new Date().toISOString().slice(0, 10)}T09:00:00+00:00`;
  double.addDag({ dagId: 'customer_etl', tasks: ['extract', 'transform', 'load'] });
  double.addDag({ dagId: 'customer_marts', tasks: ['build'] });
  double.addDag({ dagId: 'customer_ml_features', tasks: ['features'] });
  double.addDataset({
    uri: 'warehouse://public/customers',
    producers: [{ dagId: 'customer_etl', taskId: 'load' }],
    consumers: ['customer_marts', 'customer_ml_features'],
  });
  double.addRun({
    dagId: 'customer_etl',
    runId,
    state: 'failed',
    taskStates: { extract: 'success', transform: 'failed', load: 'upstream_failed' },
  });
  double.setLog(
    'customer_etl',
    runId,
    'transform',
    1,
    'psycopg2.OperationalError: could not connect to server: Connection refused\n',
  );
  double.scriptTask('customer_etl', 'transform', { outcomes: ['failed', 'success'] });
  console.log(`AIRFLOW_BASE_URL=${double.url}`);
  console.log(`Airflow double listening on ${double.url} (customer_etl run ${runId} failed at transform)`);
  const stop = (): void => {
    double.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`airflow double failed: ${String(err)}`);
  process.exit(1);
});

/**
 * Seed scenario 1: a transient DB connection error fails the `transform` task of `customer_etl` at 09:45.
 * The task_temporary_failure runbook clears it with backoff (30 s, 2 m, 5 m), the task succeeds on retry,
 * Slack hears "Task recovered after retry", and the incident resolves within the backoff schedule.
 * Real activities against the Airflow and Slack doubles, on the time-skipping server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { alertFromGeneric, GenericAlert } from '../../src/domain/generic-alert';
import type { IncidentView } from '../../src/domain/incident-view';
import { createIncidentStarter, defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { createTemporalClient } from '../../src/temporal/client';
import { incidentQuery } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { startAirflowDouble, type AirflowDouble } from '../doubles/airflow-double';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { shippedConfig } from '../helpers/app';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { skippingClock } from '../helpers/skipping-clock';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

const RUN_ID = 'scheduled__2026-11-25T09:00:00+00:00';

let env: TestWorkflowEnvironment;
let slack: SlackDouble;

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  slack = await startSlackDouble({ token: 'xoxb-test' });
});

afterAll(async () => {
  await slack?.close();
  await env?.teardown();
});

describe.each(['v1', 'v2'] as const)('seed scenario 1 on Airflow API %s', (apiVersion) => {
  let airflow: AirflowDouble;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const taskQueue = uniqueTaskQueue(`s1-${apiVersion}`);

  beforeAll(async () => {
    airflow = await startAirflowDouble({ versions: [apiVersion] });
    airflow.addDag({ dagId: 'customer_etl', tasks: ['extract', 'transform', 'load'] });
    airflow.addRun({
      dagId: 'customer_etl',
      runId: RUN_ID,
      state: 'failed',
      taskStates: { extract: 'success', transform: 'failed', load: 'upstream_failed' },
    });
    // The first retry hits the same transient error; the second one succeeds.
    airflow.scriptTask('customer_etl', 'transform', { outcomes: ['failed', 'success'] });
    worker = await startTestWorker(env, {
      taskQueue,
      clock: await skippingClock(env),
      env: {
        AIRFLOW_BASE_URL: airflow.url,
        AIRFLOW_USERNAME: 'admin',
        AIRFLOW_PASSWORD: 'admin',
        AIRFLOW_API_VERSION: apiVersion,
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_API_URL: slack.apiUrl,
      },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await airflow?.close();
  });

  it('retries the task with backoff, tells Slack it recovered, and resolves within the backoff schedule', async () => {
    const temporal = createTemporalClient(env.address, 'default');
    const starter = createIncidentStarter({
      temporal,
      taskQueue,
      config: () => shippedConfig,
      settings: defaultIncidentSettings({
        autoResolveGraceMs: 60_000,
        features: { slack: true, store: false, pagerduty: false, alertmanager: false },
        defaultSlackChannel: '#data-incidents',
      }),
    });
    // The Airflow on_failure_callback of transform (integrations/airflow) at 09:45.
    const alert = alertFromGeneric(
      GenericAlert.parse({
        name: 'AirflowTaskFailed',
        source: 'airflow',
        severity: 'P2',
        labels: { dag_id: 'customer_etl', task_id: 'transform', run_id: RUN_ID },
        summary: 'customer_etl.transform failed: could not connect to server: Connection refused',
      }),
      new Date().toISOString(),
    );
    const { incidents } = await starter.ingest([alert]);
    await temporal.close();
    const handle = env.client.workflow.getHandle(incidents[0]!.incidentId);

    const outcome = await handle.result();
    const view: IncidentView = await handle.query(incidentQuery);

    expect(outcome).toMatchObject({ status: 'resolved', resolution: 'auto' });
    expect(view.runbook).toMatchObject({
      runbook: 'task_temporary_failure',
      status: 'succeeded',
      startedBy: 'automation',
    });
    const retry = view.runbook!.steps.retry_task!;
    expect(retry).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(airflow.executions('customer_etl', 'transform')).toBe(2);

    // Dry run first, then the real clear, for each attempt; v1 needs reset_dag_runs to reschedule.
    const clears = airflow.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/clearTaskInstances'),
    );
    expect(clears.map((r) => (r.body as { dry_run: boolean }).dry_run)).toEqual([true, false, true, false]);
    for (const c of clears)
      expect(c.body).toMatchObject({
        dag_run_id: RUN_ID,
        task_ids: ['transform'],
        only_failed: true,
        reset_dag_runs: true,
      });

    // The second attempt started after the first backoff delay (30 s) of the schedule.
    const started = view.timeline.filter(
      (e) => e.kind === 'step_started' && e.text.startsWith('Step retry_task'),
    );
    expect(started).toHaveLength(2);
    const failedAt = Date.parse(
      view.timeline.find((e) => e.kind === 'step_failed' && e.text.includes('retrying in 30s'))!.at,
    );
    expect(Date.parse(started[1]!.at) - failedAt).toBeGreaterThanOrEqual(30_000);
    expect(Date.parse(started[1]!.at) - failedAt).toBeLessThan(31_000);

    // Recovered well within 30 s + 2 m + 5 m (plus the auto-resolve grace).
    const mitigated = Date.parse(view.mitigatedAt!) - Date.parse(view.openedAt);
    expect(mitigated).toBeLessThan((30 + 120 + 300) * 1000);
    expect(Date.parse(view.resolvedAt!) - Date.parse(view.mitigatedAt!)).toBeGreaterThanOrEqual(60_000);

    // Slack: the incident message, then "Task recovered after retry" in its thread.
    const channel = slack.channelId('#data-incidents');
    // The incident message is the one whose ts the incident keeps (the L1 page is another message).
    const root = slack.messages(channel).find((m) => m.ts === view.slack?.ts);
    expect(root).toBeDefined();
    const thread = slack.messages(channel).filter((m) => m.threadTs === root!.ts);
    expect(
      thread.some((m) => m.text?.includes('Task recovered after retry: transform in customer_etl') === true),
    ).toBe(true);
    expect(slack.latest(channel)).toBeDefined();
    expect(slack.message(channel, root!.ts)!.text).toMatch(/^Resolved /);
  });
});

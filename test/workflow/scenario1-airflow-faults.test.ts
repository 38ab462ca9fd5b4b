/**
 * Seed scenario 1 (the task_temporary_failure runbook) while Airflow misbehaves: 500s on the clear (one
 * rejected, one carried out with its response lost), a 503 while waiting for the task, and slow answers on
 * every clear and run read. The task is still cleared exactly once per scheduled retry, every Slack and
 * timeline notification arrives once, and the incident resolves. Real activities against the Airflow and
 * Slack doubles, on the time-skipping server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { alertFromGeneric, GenericAlert } from '../../src/domain/generic-alert';
import type { IncidentView } from '../../src/domain/incident-view';
import { createIncidentStarter, defaultIncidentSettings } from '../../src/ingest/incident-starter';
import { createTemporalClient } from '../../src/temporal/client';
import { incidentQuery } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { startAirflowDouble, type AirflowDouble, type RecordedRequest } from '../doubles/airflow-double';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { uniqueKey } from '../helpers/alerts';
import { shippedConfig } from '../helpers/app';
import { skippingClock } from '../helpers/skipping-clock';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
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

const isRealClear = (r: RecordedRequest): boolean =>
  r.method === 'POST' &&
  r.path.endsWith('/clearTaskInstances') &&
  (r.body as { dry_run?: boolean } | undefined)?.dry_run === false;

/** Clears Airflow carried out: answered 200, or carried out and answered with an injected error. */
const appliedClears = (airflow: AirflowDouble): RecordedRequest[] =>
  airflow.requests.filter((r) => isRealClear(r) && (r.status === 200 || r.fault === 'response_lost'));

describe.each(['v1', 'v2'] as const)('seed scenario 1 under Airflow faults on API %s', (apiVersion) => {
  let airflow: AirflowDouble;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const taskQueue = uniqueTaskQueue(`s1-faults-${apiVersion}`);
  const dagId = uniqueKey('customer_etl').replace('-', '_');

  beforeAll(async () => {
    airflow = await startAirflowDouble({ versions: [apiVersion] });
    airflow.addDag({ dagId, tasks: ['extract', 'transform', 'load'] });
    airflow.addRun({
      dagId,
      runId: RUN_ID,
      state: 'failed',
      taskStates: { extract: 'success', transform: 'failed', load: 'upstream_failed' },
    });
    // The first retry hits the same transient error; the second one succeeds.
    airflow.scriptTask(dagId, 'transform', { outcomes: ['failed', 'success'] });
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

  it('clears the task once per scheduled retry, loses no notification, and resolves', async () => {
    // Faults are added as the requests they target arrive, so each one hits what it is meant for
    // (within the clear activity's three attempts).
    const rejectedDryRun = airflow.injectFault({ method: 'POST', path: '/clearTaskInstances', times: 1 });
    const lost: Array<ReturnType<AirflowDouble['injectFault']>> = [];
    const waitErrors: Array<ReturnType<AirflowDouble['injectFault']>> = [];
    let realClears = 0;
    airflow.onRequest((r) => {
      if (!isRealClear(r)) return;
      realClears += 1;
      // Retry 1: Airflow clears the task but the answer is a 500.
      if (realClears === 1) {
        lost.push(airflow.injectFault({ method: 'POST', path: '/clearTaskInstances', afterHandling: true }));
      }
      // Retry 2: the first read of the task while waiting for it gets a 503.
      if (realClears === 2) {
        waitErrors.push(
          airflow.injectFault({ method: 'GET', path: '/taskInstances/transform', status: 503 }),
        );
      }
    });
    const slowClears = airflow.slowDown({ method: 'POST', path: '/clearTaskInstances', delayMs: 700 });
    const slowRuns = airflow.slowDown({ method: 'GET', path: `/dags/${dagId}/dagRuns/`, delayMs: 300 });

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
    const alert = alertFromGeneric(
      GenericAlert.parse({
        name: 'AirflowTaskFailed',
        source: 'airflow',
        severity: 'P2',
        labels: { dag_id: dagId, task_id: 'transform', run_id: RUN_ID },
        summary: `${dagId}.transform failed: could not connect to server: Connection refused`,
      }),
      new Date().toISOString(),
    );
    const { incidents } = await starter.ingest([alert]);
    await temporal.close();
    const handle = env.client.workflow.getHandle(incidents[0]!.incidentId);

    const outcome = await handle.result();
    const view: IncidentView = await handle.query(incidentQuery);

    // Every injected fault was hit.
    expect([rejectedDryRun.hits(), lost.map((f) => f.hits()), waitErrors.map((f) => f.hits())]).toEqual([
      1,
      [1],
      [1],
    ]);
    expect(slowClears.hits()).toBeGreaterThanOrEqual(4);
    expect(slowRuns.hits()).toBeGreaterThan(0);

    expect(outcome).toMatchObject({ status: 'resolved', resolution: 'auto' });
    expect(view.runbook).toMatchObject({ runbook: 'task_temporary_failure', status: 'succeeded' });
    expect(view.runbook!.steps.retry_task).toMatchObject({ status: 'succeeded', attempts: 2 });

    // Exactly one clear per scheduled retry (the retry of the lost one found the task queued), and the
    // task ran once per retry.
    expect(appliedClears(airflow)).toHaveLength(2);
    expect(airflow.executions(dagId, 'transform')).toBe(2);

    // The timeline tells each attempt once.
    const ofStep = (kind: string) =>
      view.timeline.filter((e) => e.kind === kind && e.text.startsWith('Step retry_task'));
    expect(ofStep('step_started')).toHaveLength(2);
    expect(ofStep('step_failed')).toHaveLength(1);
    expect(ofStep('step_succeeded')).toHaveLength(1);

    // Slack: the incident message, and "Task recovered after retry" once in its thread (the timeline
    // digest in the thread quotes it too).
    const channel = slack.channelId('#data-incidents');
    const root = slack.messages(channel).find((m) => m.ts === view.slack?.ts);
    expect(root).toBeDefined();
    const thread = slack.messages(channel).filter((m) => m.threadTs === root!.ts);
    expect(thread.filter((m) => m.text === `Task recovered after retry: transform in ${dagId}`)).toHaveLength(
      1,
    );
    expect(slack.message(channel, root!.ts)!.text).toMatch(/^Resolved /);
  });
});

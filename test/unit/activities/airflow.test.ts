import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  createAirflowActivities,
  type AirflowClearTaskInput,
} from '../../../src/activities/airflow.activities';
import { createAirflowClient } from '../../../src/adapters/airflow';
import { ErrorType } from '../../../src/domain/errors';
import {
  ETL_FAILED_RUN,
  seedEtlExample,
  startAirflowDouble,
  type AirflowDouble,
} from '../../doubles/airflow-double';
import { createSteppingClock, type SteppingClock } from '../../helpers/stepping-clock';

let double: AirflowDouble;
let clock: SteppingClock;

beforeEach(async () => {
  clock = createSteppingClock();
  double = await startAirflowDouble({ now: () => clock.now() });
  seedEtlExample(double);
});

afterEach(() => double.close());

function activities(apiVersion: 'v1' | 'v2' = 'v2') {
  const airflow = createAirflowClient({
    baseUrl: double.url,
    username: 'admin',
    password: 'admin',
    apiVersion,
  });
  return createAirflowActivities({ airflow, clock });
}

const clearInput = (overrides: Partial<AirflowClearTaskInput> = {}): AirflowClearTaskInput => ({
  key: 'inc-1/retry/1',
  dagId: 'etl',
  dagRunId: ETL_FAILED_RUN,
  taskId: 'transform',
  waitForCompletion: true,
  completionTimeoutMs: 30 * 60_000,
  pollIntervalMs: 30_000,
  ...overrides,
});

/** A mock activity context that does not print the SDK's "Activity failed" warnings. */
function mockEnv(info?: ConstructorParameters<typeof MockActivityEnvironment>[0]): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

/** Runs an activity in a mock activity context (typed: `MockActivityEnvironment.run` loses the result type). */
function runIn<I, R>(env: MockActivityEnvironment, fn: (input: I) => Promise<R>, input: I): Promise<R> {
  return env.run<[I], R, (input: I) => Promise<R>>(fn, input);
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure))
    throw new Error(`expected ApplicationFailure, got ${String(err)}`);
  return err;
}

const clearBodies = () =>
  double.requestsTo('POST', '/clearTaskInstances').map((r) => r.body as Record<string, unknown>);

describe.each(['v1', 'v2'] as const)('airflowClearTask on Airflow %s', (v) => {
  it('fails on the first retry and succeeds on the second with a flaky task', async () => {
    double.scriptTask('etl', 'transform', { outcomes: ['failed', 'success'] });
    const { airflowClearTask } = activities(v);

    const first = await failureOf(runIn(mockEnv(), airflowClearTask, clearInput({ key: 'inc-1/retry/1' })));
    expect(first.type).toBe(ErrorType.OperationFailed);
    expect(first.nonRetryable).toBe(true);
    expect(first.message).toBe(`task etl.transform in run ${ETL_FAILED_RUN} ended failed (try 2)`);

    const second = await runIn(mockEnv(), airflowClearTask, clearInput({ key: 'inc-1/retry/2' }));
    expect(second).toMatchObject({
      action: 'cleared',
      state: 'success',
      tryNumber: 3,
      dagRunId: ETL_FAILED_RUN,
    });
    expect(second.preview.map((t) => t.taskId)).toEqual(['transform']);
    expect(clearBodies().map((b) => [b.dry_run, b.reset_dag_runs, b.only_failed])).toEqual([
      [true, true, true],
      [false, true, true],
      [true, true, true],
      [false, true, true],
    ]);
  });
});

describe('airflowClearTask', () => {
  it('previews with a dry run before clearing, including downstream tasks when asked', async () => {
    const result = await runIn(
      mockEnv(),
      activities().airflowClearTask,
      clearInput({ includeDownstream: true, waitForCompletion: false }),
    );
    expect(result.preview.map((t) => t.taskId)).toEqual(['transform', 'load']);
    expect(result.cleared.map((t) => t.taskId)).toEqual(['transform', 'load']);
    expect(clearBodies().map((b) => [b.dry_run, b.include_downstream])).toEqual([
      [true, true],
      [false, true],
    ]);
    expect(result.state).toBe('queued');
    expect(double.taskState('etl', ETL_FAILED_RUN, 'transform')).toBe('queued');
  });

  it('uses the latest failed run when no run id is given', async () => {
    double.addRun({ dagId: 'etl', runId: 'manual__2024-05-02T08:00:00+00:00', state: 'success' });
    const result = await runIn(
      mockEnv(),
      activities().airflowClearTask,
      clearInput({ dagRunId: undefined, waitForCompletion: false }),
    );
    expect(result.dagRunId).toBe(ETL_FAILED_RUN);
  });

  it('resumes waiting from heartbeat details after a lost attempt without clearing again', async () => {
    double.scriptTask('etl', 'transform', { queuedPolls: 2, runningPolls: 2 });
    const { airflowClearTask } = activities();
    const env1 = mockEnv();
    const beats: unknown[] = [];
    env1.on('heartbeat', (d: { phase?: string }) => {
      beats.push(d);
      if (d.phase === 'waiting') env1.cancel();
    });
    await expect(runIn(env1, airflowClearTask, clearInput())).rejects.toBeInstanceOf(CancelledFailure);
    expect(clearBodies()).toHaveLength(2);

    const env2 = mockEnv({ heartbeatDetails: beats[beats.length - 1] });
    const result = await runIn(env2, airflowClearTask, clearInput());
    expect(result).toMatchObject({ action: 'resumed', state: 'success' });
    expect(result.preview.map((t) => t.taskId)).toEqual(['transform']);
    expect(clearBodies()).toHaveLength(2);
    expect(double.executions('etl', 'transform')).toBe(1);
  });

  it('ignores heartbeat details of another key and clears afresh', async () => {
    const env = mockEnv({
      heartbeatDetails: {
        key: 'inc-1/retry/0',
        phase: 'waiting',
        dagRunId: ETL_FAILED_RUN,
        waitStartedAt: 0,
      },
    });
    const result = await runIn(env, activities().airflowClearTask, clearInput());
    expect(result.action).toBe('cleared');
    expect(clearBodies()).toHaveLength(2);
  });

  it('does not clear a task that is already queued or running', async () => {
    double.addRun({
      dagId: 'etl',
      runId: 'manual__retrying',
      state: 'running',
      taskStates: { extract: 'success', transform: 'running' },
    });
    const result = await runIn(
      mockEnv(),
      activities().airflowClearTask,
      clearInput({ dagRunId: 'manual__retrying', waitForCompletion: false }),
    );
    expect(result).toMatchObject({ action: 'already_active', state: 'running', cleared: [] });
    expect(clearBodies()).toHaveLength(0);
  });

  it('reports a task that already succeeded without clearing it', async () => {
    const result = await runIn(
      mockEnv(),
      activities().airflowClearTask,
      clearInput({ dagRunId: 'scheduled__2024-04-30T00:00:00+00:00' }),
    );
    expect(result).toMatchObject({ action: 'already_succeeded', state: 'success', cleared: [] });
    expect(clearBodies().map((b) => b.dry_run)).toEqual([true]);
  });

  it('gives up with TimedOut when the task does not finish in time', async () => {
    double.scriptTask('etl', 'transform', { queuedMs: 60_000, runningMs: 3_600_000 });
    const err = await failureOf(
      runIn(
        mockEnv(),
        activities().airflowClearTask,
        clearInput({ completionTimeoutMs: 10 * 60_000, pollIntervalMs: 60_000 }),
      ),
    );
    expect(err.type).toBe(ErrorType.TimedOut);
    expect(err.message).toBe(`task etl.transform in run ${ETL_FAILED_RUN} still running after 10m`);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(10 * 60_000);
  });

  it('heartbeats every poll with the progress', async () => {
    double.scriptTask('etl', 'transform', { queuedPolls: 1, runningPolls: 2 });
    const env = mockEnv();
    const phases: string[] = [];
    env.on('heartbeat', (d: { phase: string; lastState: string | null }) =>
      phases.push(`${d.phase}:${d.lastState}`),
    );
    await runIn(env, activities().airflowClearTask, clearInput());
    expect(phases).toEqual([
      'resolved:null',
      'cleared:queued',
      'waiting:queued',
      'waiting:running',
      'waiting:running',
      'waiting:success',
    ]);
  });

  it('maps an unknown DAG to a final NotFound failure', async () => {
    const err = await failureOf(
      runIn(mockEnv(), activities().airflowClearTask, clearInput({ dagId: 'ghost' })),
    );
    expect(err.type).toBe(ErrorType.NotFound);
    expect(err.nonRetryable).toBe(true);
  });

  it('maps an Airflow outage to a retryable Unavailable failure', async () => {
    double.failNext({ path: '/taskInstances/transform', status: 503 });
    const err = await failureOf(runIn(mockEnv(), activities().airflowClearTask, clearInput()));
    expect(err.type).toBe(ErrorType.Unavailable);
    expect(err.nonRetryable).toBe(false);
  });
});

describe('airflowTriggerDag', () => {
  it('counts an existing run with the same id as done', async () => {
    const { airflowTriggerDag } = activities();
    const input = { dagId: 'reporting', dagRunId: 'incidentflow__inc-1__rerun', conf: { incident: 'inc-1' } };
    const first = await runIn(mockEnv(), airflowTriggerDag, input);
    const second = await runIn(mockEnv(), airflowTriggerDag, input);
    expect([first.alreadyExisted, second.alreadyExisted]).toEqual([false, true]);
    expect(second.dagRunId).toBe('incidentflow__inc-1__rerun');
  });
});

describe('airflowSetPaused', () => {
  it('reports each DAG’s previous state and patches only the ones that change', async () => {
    double.addDag({ dagId: 'already_paused', isPaused: true });
    const result = await runIn(mockEnv(), activities().airflowSetPaused, {
      dagIds: ['reporting', 'already_paused', 'ml_features'],
      paused: true,
    });
    expect(result.changes).toEqual([
      { dagId: 'reporting', previous: false, current: true },
      { dagId: 'already_paused', previous: true, current: true },
      { dagId: 'ml_features', previous: false, current: true },
    ]);
    expect(double.requestsTo('PATCH', '/dags/').map((r) => r.path)).toEqual([
      '/api/v2/dags/reporting',
      '/api/v2/dags/ml_features',
    ]);
  });

  it('keeps the previous state recorded by an earlier attempt', async () => {
    double.addDag({ dagId: 'x', isPaused: false });
    const env = mockEnv({
      heartbeatDetails: { paused: true, done: [{ dagId: 'reporting', previous: false, current: true }] },
    });
    // The earlier attempt paused `reporting` before it was lost; the live state now says paused.
    await activities().airflowSetPaused({ dagIds: ['reporting'], paused: true });
    const result = await runIn(env, activities().airflowSetPaused, {
      dagIds: ['reporting', 'x'],
      paused: true,
    });
    expect(result.changes).toEqual([
      { dagId: 'reporting', previous: false, current: true },
      { dagId: 'x', previous: false, current: true },
    ]);
  });

  it('restores exactly by unpausing the DAGs that were unpaused before', async () => {
    double.addDag({ dagId: 'already_paused', isPaused: true });
    const { airflowSetPaused } = activities();
    const paused = await airflowSetPaused({ dagIds: ['reporting', 'already_paused'], paused: true });
    const toResume = paused.changes.filter((c) => !c.previous).map((c) => c.dagId);
    await airflowSetPaused({ dagIds: toResume, paused: false });
    expect([double.isPaused('reporting'), double.isPaused('already_paused')]).toEqual([false, true]);
  });
});

describe('airflowDownstreamDags', () => {
  it.each(['v1', 'v2'] as const)('finds the DAGs scheduled on what the DAG produces (%s)', async (v) => {
    expect(await activities(v).airflowDownstreamDags({ dagId: 'etl' })).toEqual({
      dagIds: ['ml_features', 'reporting'],
    });
  });

  it('returns nothing for a DAG that produces no dataset', async () => {
    expect(await activities().airflowDownstreamDags({ dagId: 'reporting' })).toEqual({ dagIds: [] });
  });
});

describe('airflowReadPool', () => {
  it.each(['v1', 'v2'] as const)('reads the slots of a pool without changing it (%s)', async (v) => {
    expect(await activities(v).airflowReadPool({ pool: 'warehouse' })).toEqual({
      pool: 'warehouse',
      slots: 4,
    });
    expect(double.requests.filter((r) => r.method !== 'GET' && r.path.includes('/pools/'))).toEqual([]);
  });

  it('reports an unknown pool as a final NotFound', async () => {
    const err = await failureOf(activities().airflowReadPool({ pool: 'nope' }));
    expect([err.type, err.nonRetryable]).toEqual([ErrorType.NotFound, true]);
  });

  it('turns an Airflow 500 into a retryable failure', async () => {
    double.injectFault({ method: 'GET', path: '/pools/warehouse' });
    const err = await failureOf(activities('v1').airflowReadPool({ pool: 'warehouse' }));
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('500');
  });
});

describe('airflowReadPaused', () => {
  it('reads each DAG once, in the order given, without changing any', async () => {
    await activities().airflowSetPaused({ dagIds: ['reporting'], paused: true });
    const before = double.requests.length;
    const result = await activities().airflowReadPaused({
      dagIds: ['reporting', 'ml_features', 'reporting'],
    });
    expect(result).toEqual({
      states: [
        { dagId: 'reporting', isPaused: true },
        { dagId: 'ml_features', isPaused: false },
      ],
    });
    const dagCalls = double.requests.slice(before).filter((r) => r.path.includes('/dags/'));
    expect(dagCalls.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v2/dags/reporting',
      'GET /api/v2/dags/ml_features',
    ]);
  });
});

describe('airflowSetPoolSlots', () => {
  it('raises a pool by a relative amount and reports previous and current', async () => {
    const result = await activities().airflowSetPoolSlots({ pool: 'warehouse', increaseBy: 4 });
    expect(result).toEqual({ pool: 'warehouse', previous: 4, current: 8, changed: true });
    expect(double.poolSlots('warehouse')).toBe(8);
  });

  it('sets the same target again when re-run with the recorded previous size', async () => {
    const { airflowSetPoolSlots } = activities();
    const first = await airflowSetPoolSlots({ pool: 'warehouse', increaseBy: 4 });
    const again = await airflowSetPoolSlots({ pool: 'warehouse', increaseBy: 4, previous: first.previous });
    expect(again).toEqual({ pool: 'warehouse', previous: 4, current: 8, changed: false });
    expect(double.requestsTo('PATCH', '/pools/')).toHaveLength(1);
  });

  it('uses the previous size from the heartbeat of a lost attempt', async () => {
    await activities().airflowSetPoolSlots({ pool: 'warehouse', slots: 8 });
    const env = mockEnv({
      heartbeatDetails: { pool: 'warehouse', previous: 4, target: 8 },
    });
    const result = await runIn(env, activities().airflowSetPoolSlots, { pool: 'warehouse', increaseBy: 4 });
    expect(result).toEqual({ pool: 'warehouse', previous: 4, current: 8, changed: false });
  });

  it('sets an absolute target with the recorded previous size, and sends nothing when it is reached', async () => {
    const { airflowSetPoolSlots } = activities();
    const first = await airflowSetPoolSlots({ pool: 'warehouse', slots: 9, previous: 4 });
    const again = await airflowSetPoolSlots({ pool: 'warehouse', slots: 9, previous: 4 });
    expect([first, again]).toEqual([
      { pool: 'warehouse', previous: 4, current: 9, changed: true },
      { pool: 'warehouse', previous: 4, current: 9, changed: false },
    ]);
    expect(double.requestsTo('PATCH', '/pools/')).toHaveLength(1);
  });

  it('rejects a request with both slots and increaseBy', async () => {
    const err = await failureOf(
      activities().airflowSetPoolSlots({ pool: 'warehouse', slots: 8, increaseBy: 2 }),
    );
    expect(err.type).toBe(ErrorType.Rejected);
    expect(err.message).toBe('airflowSetPoolSlots: give exactly one of slots or increaseBy');
  });
});

describe('airflowTaskLog', () => {
  it('reads the latest try of the latest failed run by default', async () => {
    const result = await activities().airflowTaskLog({ dagId: 'etl', taskId: 'transform' });
    expect(result).toMatchObject({ dagRunId: ETL_FAILED_RUN, tryNumber: 1, truncated: false });
    expect(result.content).toContain('too many connections');
  });

  it('keeps only the last maxBytes of the log', async () => {
    double.setLog('etl', ETL_FAILED_RUN, 'transform', 1, `${'x'.repeat(10_000)}\nthe last line`);
    const result = await activities('v1').airflowTaskLog({
      dagId: 'etl',
      taskId: 'transform',
      maxBytes: 100,
    });
    expect(result).toMatchObject({ content: 'the last line', truncated: true, totalBytes: 10_014 });
  });

  it('falls back to the previous try when the reported try has no log yet', async () => {
    double.addRun({
      dagId: 'etl',
      runId: 'manual__old_airflow',
      state: 'failed',
      taskStates: { extract: 'success', transform: 'failed' },
      tryNumbers: { transform: 2 },
    });
    double.setLog('etl', 'manual__old_airflow', 'transform', 1, 'the real failure');
    double.failNext({ path: '/logs/2', status: 404, body: { detail: 'TaskInstance not found' } });
    const result = await activities().airflowTaskLog({
      dagId: 'etl',
      dagRunId: 'manual__old_airflow',
      taskId: 'transform',
    });
    expect(result.tryNumber).toBe(1);
    expect(result.content).toMatch(/ INFO the real failure$/);
  });
});

describe('airflowAwaitState', () => {
  it('holds once the run has been success for the whole hold period', async () => {
    double.addRun({ dagId: 'etl', runId: 'manual__ok', state: 'success' });
    const result = await runIn(mockEnv(), activities().airflowAwaitState, {
      dagId: 'etl',
      dagRunId: 'manual__ok',
      state: 'success',
      holdForMs: 120_000,
      deadlineMs: 600_000,
      pollIntervalMs: 60_000,
    });
    expect(result).toMatchObject({ held: true, dagRunId: 'manual__ok', polls: 3 });
  });

  it('waits for a cleared task to reach success', async () => {
    double.scriptTask('etl', 'transform', { queuedMs: 30_000, runningMs: 90_000 });
    await activities().airflowClearTask(clearInput({ waitForCompletion: false }));
    const result = await activities().airflowAwaitState({
      dagId: 'etl',
      dagRunId: ETL_FAILED_RUN,
      taskId: 'transform',
      state: 'success',
      holdForMs: 0,
      deadlineMs: 600_000,
      pollIntervalMs: 60_000,
    });
    expect(result).toMatchObject({ held: true, polls: 3 });
  });

  it('stops early when the run finished in another state', async () => {
    const result = await activities().airflowAwaitState({
      dagId: 'etl',
      state: 'success',
      holdForMs: 60_000,
      deadlineMs: 600_000,
      pollIntervalMs: 60_000,
    });
    expect(result).toEqual({
      held: false,
      dagRunId: ETL_FAILED_RUN,
      reason: `DAG run etl in run ${ETL_FAILED_RUN} finished failed, not success`,
      lastState: 'failed',
      polls: 1,
    });
  });

  it('returns held:false at the deadline while the state never settles', async () => {
    double.addRun({
      dagId: 'etl',
      runId: 'manual__slow',
      state: 'running',
      taskStates: { extract: 'running' },
    });
    const result = await activities().airflowAwaitState({
      dagId: 'etl',
      dagRunId: 'manual__slow',
      state: 'success',
      holdForMs: 0,
      deadlineMs: 300_000,
      pollIntervalMs: 60_000,
    });
    expect(result).toMatchObject({ held: false, lastState: 'running', polls: 6 });
  });
});

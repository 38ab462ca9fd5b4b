import { createAirflowClient, tail, type AirflowClient } from '../../../src/adapters/airflow';
import { UpstreamError } from '../../../src/adapters/upstream-error';
import { ErrorType } from '../../../src/domain/errors';
import {
  ETL_FAILED_RUN,
  seedEtlExample,
  startAirflowDouble,
  type AirflowDouble,
} from '../../doubles/airflow-double';
import { freePort } from '../../helpers/ports';

const PASSWORD = 'pw-7f3a-secret';
const ENCODED_RUN = 'scheduled__2024-05-01T00%3A00%3A00%2B00%3A00';

let double: AirflowDouble;
let clockMs: number;

beforeEach(async () => {
  clockMs = Date.UTC(2024, 4, 1, 12);
  double = await startAirflowDouble({ password: PASSWORD, now: () => clockMs, tokenLifetimeMs: 60_000 });
  seedEtlExample(double);
});

afterEach(() => double.close());

function client(apiVersion: 'v1' | 'v2' | 'auto', password = PASSWORD): AirflowClient {
  return createAirflowClient({ baseUrl: `${double.url}/`, username: 'admin', password, apiVersion });
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(err)}`);
  return err;
}

describe('createAirflowClient version detection', () => {
  it('picks v2 when the server serves /api/v2/version', async () => {
    expect(await client('auto').apiVersion()).toBe('v2');
    expect(double.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v2/version']);
  });

  it('falls back to v1 on an Airflow 2 server and remembers the answer', async () => {
    await double.close();
    double = await startAirflowDouble({ password: PASSWORD, versions: ['v1'] });
    seedEtlExample(double);
    const c = client('auto');
    await c.getDag('etl');
    await c.getDag('etl');
    expect(double.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v2/version',
      'GET /api/v2/monitor/health',
      'GET /api/v1/version',
      'GET /api/v1/dags/etl',
      'GET /api/v1/dags/etl',
    ]);
  });

  it('reports NotFound when neither API answers', async () => {
    await double.close();
    double = await startAirflowDouble({ versions: [] });
    const err = await failure(client('auto').apiVersion());
    expect(err.type).toBe(ErrorType.NotFound);
    expect(err.retryable).toBe(false);
  });
});

describe.each(['v1', 'v2'] as const)('createAirflowClient against Airflow %s', (v) => {
  it('reads a DAG in the normalised shape', async () => {
    expect(await client(v).getDag('etl')).toEqual({
      dagId: 'etl',
      isPaused: false,
      isActive: v === 'v1' ? true : null,
      description: null,
      owners: ['data-platform'],
      tags: ['etl'],
      fileloc: '/opt/airflow/dags/etl.py',
    });
  });

  it('URL-encodes run ids containing + and : as path segments', async () => {
    const run = await client(v).getDagRun('etl', ETL_FAILED_RUN);
    expect(run).toMatchObject({
      dagRunId: ETL_FAILED_RUN,
      state: 'failed',
      logicalDate: '2024-05-01T00:00:00+00:00',
    });
    const sent = double.requestsTo('GET', '/dagRuns/')[0]!;
    expect(sent.rawPath).toBe(`/api/${v}/dags/etl/dagRuns/${ENCODED_RUN}`);
  });

  it('finds the latest failed run by descending id with a state filter', async () => {
    const run = await client(v).latestDagRun('etl', { state: 'failed' });
    expect(run?.dagRunId).toBe(ETL_FAILED_RUN);
    expect(double.requestsTo('GET', '/dagRuns')[0]!.query).toEqual({
      state: ['failed'],
      limit: ['1'],
      order_by: ['-id'],
    });
  });

  it('sends several states as a repeated parameter', async () => {
    const { dagRuns, totalEntries } = await client(v).listDagRuns('etl', {
      state: ['failed', 'success'],
      orderBy: 'id',
    });
    expect(dagRuns.map((r) => r.state)).toEqual(['success', 'failed']);
    expect(totalEntries).toBe(2);
    expect(double.requestsTo('GET', '/dagRuns')[0]!.query.state).toEqual(['failed', 'success']);
  });

  it('lists and reads task instances with normalised states', async () => {
    const c = client(v);
    const tis = await c.listTaskInstances('etl', ETL_FAILED_RUN);
    expect(tis.map((t) => [t.taskId, t.state, t.mapIndex])).toEqual([
      ['extract', 'success', -1],
      ['transform', 'failed', -1],
      ['load', 'upstream_failed', -1],
    ]);
    const ti = await c.getTaskInstance('etl', ETL_FAILED_RUN, 'transform');
    expect(ti).toMatchObject({ dagId: 'etl', dagRunId: ETL_FAILED_RUN, taskId: 'transform', tryNumber: 1 });
  });

  it('previews a clear with an explicit dry run and changes nothing', async () => {
    const result = await client(v).clearTaskInstances('etl', {
      dagRunId: ETL_FAILED_RUN,
      taskIds: ['transform'],
      includeDownstream: true,
      dryRun: true,
    });
    expect(result.dryRun).toBe(true);
    expect(result.taskInstances.map((t) => t.taskId)).toEqual(['transform', 'load']);
    expect(double.taskState('etl', ETL_FAILED_RUN, 'transform')).toBe('failed');
    expect(double.requestsTo('POST', '/clearTaskInstances')[0]!.body).toEqual({
      dag_run_id: ETL_FAILED_RUN,
      task_ids: ['transform'],
      only_failed: true,
      include_downstream: true,
      include_upstream: false,
      reset_dag_runs: true,
      dry_run: true,
    });
  });

  it('clears for real with reset_dag_runs so the scheduler picks the task up', async () => {
    const result = await client(v).clearTaskInstances('etl', {
      dagRunId: ETL_FAILED_RUN,
      taskIds: ['transform'],
      dryRun: false,
    });
    expect(result.taskInstances).toEqual([
      {
        dagId: 'etl',
        dagRunId: ETL_FAILED_RUN,
        taskId: 'transform',
        mapIndex: v === 'v1' ? null : -1,
        state: v === 'v1' ? null : 'queued',
      },
    ]);
    expect(double.requestsTo('POST', '/clearTaskInstances')[0]!.body).toMatchObject({
      dry_run: false,
      reset_dag_runs: true,
    });
    expect(double.taskState('etl', ETL_FAILED_RUN, 'transform')).toBe('queued');
    expect(double.runState('etl', ETL_FAILED_RUN)).toBe('queued');
  });

  it('triggers a run with the caller-chosen id and the version-specific body', async () => {
    const result = await client(v).triggerDagRun('reporting', {
      dagRunId: 'incidentflow__inc-42__rerun',
      conf: { reason: 'inc-42' },
    });
    expect(result.alreadyExists).toBe(false);
    expect(result.run).toMatchObject({
      dagId: 'reporting',
      dagRunId: 'incidentflow__inc-42__rerun',
      state: 'queued',
    });
    const body = double.requestsTo('POST', '/dagRuns')[0]!.body;
    expect(body).toEqual(
      v === 'v2'
        ? { dag_run_id: 'incidentflow__inc-42__rerun', logical_date: null, conf: { reason: 'inc-42' } }
        : { dag_run_id: 'incidentflow__inc-42__rerun', conf: { reason: 'inc-42' } },
    );
  });

  it('treats 409 on trigger as already done and returns the existing run', async () => {
    const c = client(v);
    await c.triggerDagRun('reporting', { dagRunId: 'incidentflow__inc-42__rerun' });
    const again = await c.triggerDagRun('reporting', { dagRunId: 'incidentflow__inc-42__rerun' });
    expect(again.alreadyExists).toBe(true);
    expect(again.run.dagRunId).toBe('incidentflow__inc-42__rerun');
    expect(double.requests.filter((r) => r.status === 409)).toHaveLength(1);
  });

  it('pauses a DAG with update_mask=is_paused', async () => {
    const dag = await client(v).setPaused('reporting', true);
    expect(dag.isPaused).toBe(true);
    expect(double.isPaused('reporting')).toBe(true);
    const sent = double.requestsTo('PATCH', '/dags/reporting')[0]!;
    expect(sent.query).toEqual({ update_mask: ['is_paused'] });
    expect(sent.body).toEqual({ is_paused: true });
  });

  it('reads and resizes a pool with update_mask=slots', async () => {
    const c = client(v);
    expect(await c.getPool('warehouse')).toEqual({
      name: 'warehouse',
      slots: 4,
      occupiedSlots: 4,
      runningSlots: 4,
      queuedSlots: 0,
      openSlots: 0,
      description: 'warehouse connections',
    });
    const pool = await c.setPoolSlots('warehouse', 8);
    expect(pool.slots).toBe(8);
    const sent = double.requestsTo('PATCH', '/pools/warehouse')[0]!;
    expect(sent.query).toEqual({ update_mask: ['slots'] });
    expect(sent.body).toEqual(v === 'v1' ? { name: 'warehouse', slots: 8 } : { slots: 8 });
  });

  it('reads a task log as text whatever format the version answers in', async () => {
    const log = await client(v).getTaskLog('etl', ETL_FAILED_RUN, 'transform', 1);
    expect(log.content).toContain('ERROR - Task failed with exception');
    expect(log.content).toContain('too many connections');
    expect(log.truncated).toBe(false);
    const sent = double.requestsTo('GET', '/logs/1')[0]!;
    expect(sent.headers.accept).toBe(v === 'v1' ? 'text/plain' : 'application/json');
  });

  it('keeps only the tail of a long log', async () => {
    double.setLog('etl', ETL_FAILED_RUN, 'transform', 1, `${'noise line\n'.repeat(5000)}final error line`);
    const log = await client(v).getTaskLog('etl', ETL_FAILED_RUN, 'transform', 1, { tailBytes: 1024 });
    expect(log.truncated).toBe(true);
    expect(Buffer.byteLength(log.content)).toBeLessThanOrEqual(1024);
    expect(log.content.endsWith('final error line')).toBe(true);
  });

  it('finds downstream DAGs through the datasets the DAG produces', async () => {
    expect(await client(v).downstreamDags('etl')).toEqual(['ml_features', 'reporting']);
    const sent = double.requestsTo('GET', v === 'v1' ? '/datasets' : '/assets')[0]!;
    expect(sent.query.dag_ids).toEqual(['etl']);
  });

  it('filters datasets by several DAGs in the version-specific parameter form', async () => {
    const found = await client(v).listDatasets(['etl', 'audit']);
    expect(found.map((d) => d.uri).sort()).toEqual([
      's3://audit/log',
      's3://warehouse/orders',
      's3://warehouse/raw_orders',
    ]);
    const sent = double.requestsTo('GET', v === 'v1' ? '/datasets' : '/assets')[0]!;
    expect(sent.query.dag_ids).toEqual(v === 'v1' ? ['etl,audit'] : ['etl', 'audit']);
  });

  it('classifies an unknown DAG as NotFound with the server detail', async () => {
    const err = await failure(client(v).getDag('nope'));
    expect(err.type).toBe(ErrorType.NotFound);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(`airflow GET /api/${v}/dags/nope: 404 DAG with dag_id: 'nope' not found`);
  });

  it.each([
    [503, undefined, ErrorType.Unavailable, true, undefined],
    [429, '7', ErrorType.RateLimited, true, 7000],
    [400, undefined, ErrorType.Rejected, false, undefined],
    [403, undefined, ErrorType.AuthFailed, false, undefined],
  ])('classifies HTTP %s as a typed error', async (status, retryAfter, type, retryable, retryAfterMs) => {
    double.failNext({
      path: '/dags/etl',
      status,
      ...(retryAfter ? { headers: { 'Retry-After': retryAfter } } : {}),
    });
    const err = await failure(client(v).getDag('etl'));
    expect({
      type: err.type,
      retryable: err.retryable,
      retryAfterMs: err.retryAfterMs,
      status: err.status,
    }).toEqual({
      type,
      retryable,
      retryAfterMs,
      status,
    });
  });

  it('never puts the password or a token into an error message', async () => {
    const err = await failure(client(v, 'wrong-password-123').getDag('etl'));
    expect(err.type).toBe(ErrorType.AuthFailed);
    expect(err.message).not.toContain('wrong-password-123');
    expect(err.message).not.toMatch(/Basic |Bearer /);
  });
});

describe('createAirflowClient authentication', () => {
  it('uses HTTP Basic on v1', async () => {
    await client('v1').getDag('etl');
    expect(double.requests.map((r) => r.auth)).toEqual(['basic']);
    expect(double.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`,
    );
  });

  it('fetches one JWT from /auth/token for many v2 calls', async () => {
    const c = client('v2');
    await Promise.all([c.getDag('etl'), c.getDag('reporting'), c.getPool('warehouse')]);
    const tokenCalls = double.requestsTo('POST', '/auth/token');
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0]!.body).toEqual({ username: 'admin', password: PASSWORD });
    expect(double.requests.filter((r) => r.path.startsWith('/api/v2')).map((r) => r.auth)).toEqual([
      'bearer',
      'bearer',
      'bearer',
    ]);
  });

  it('renews an expired JWT once on 401 and repeats the request', async () => {
    const c = client('v2');
    await c.getDag('etl');
    clockMs += 61_000;
    const dag = await c.getDag('reporting');
    expect(dag.dagId).toBe('reporting');
    expect(double.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /auth/token 201',
      'GET /api/v2/dags/etl 200',
      'GET /api/v2/dags/reporting 401',
      'POST /auth/token 201',
      'GET /api/v2/dags/reporting 200',
    ]);
  });

  it('fails with AuthFailed when /auth/token rejects the credentials', async () => {
    const err = await failure(client('v2', 'not-it').getDag('etl'));
    expect(err.type).toBe(ErrorType.AuthFailed);
    expect(err.message).toBe('airflow POST /auth/token: 401 Invalid credentials');
  });
});

describe('createAirflowClient transport failures', () => {
  it('reports an unreachable server as retryable Unavailable', async () => {
    const port = await freePort();
    const c = createAirflowClient({
      baseUrl: `http://127.0.0.1:${port}`,
      username: 'admin',
      password: PASSWORD,
      apiVersion: 'v1',
    });
    const err = await failure(c.getDag('etl'));
    expect(err.type).toBe(ErrorType.Unavailable);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^airflow GET \/api\/v1\/dags\/etl: network error/);
  });

  it('reports a slow server as a retryable timeout', async () => {
    const c = createAirflowClient({
      baseUrl: double.url,
      username: 'admin',
      password: PASSWORD,
      apiVersion: 'v1',
      timeoutMs: 50,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)),
        ),
    });
    const err = await failure(c.getDag('etl'));
    expect(err.type).toBe(ErrorType.Unavailable);
    expect(err.message).toBe('airflow GET /api/v1/dags/etl: timed out');
  });

  it('rethrows the caller abort reason when cancelled', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    await expect(client('v1').getDag('etl', { signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('tail', () => {
  it.each([
    ['short text unchanged', 'a\nb', 10, { content: 'a\nb', truncated: false, totalBytes: 3 }],
    [
      'cut at the next full line',
      'line1\nline2\nline3',
      8,
      { content: 'line3', truncated: true, totalBytes: 17 },
    ],
  ])('%s', (_name, text, max, expected) => {
    expect(tail(text, max)).toEqual(expected);
  });
});

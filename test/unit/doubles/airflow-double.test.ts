import {
  ETL_FAILED_RUN,
  seedEtlExample,
  startAirflowDouble,
  type AirflowDouble,
} from '../../doubles/airflow-double';

const BASIC = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const RUN = encodeURIComponent(ETL_FAILED_RUN);

let double: AirflowDouble;
let clockMs: number;

beforeEach(async () => {
  clockMs = Date.UTC(2024, 4, 1, 12);
  double = await startAirflowDouble({ now: () => clockMs });
  seedEtlExample(double);
});

afterEach(() => double.close());

/** The parts of the double's JSON answers these tests look at. */
interface Body {
  detail?: string | Array<Record<string, unknown>> | null;
  state?: string | null;
  dag_run_id?: string;
  type?: string;
  title?: string;
  task_instances?: Array<Record<string, unknown>>;
  datasets?: Array<{ uri: string }>;
  assets?: unknown[];
}

const firstDetail = (body: Body) => (Array.isArray(body.detail) ? body.detail[0] : undefined);

async function bearer(): Promise<string> {
  const res = await fetch(`${double.url}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin' }),
  });
  expect(res.status).toBe(201);
  const { access_token } = (await res.json()) as { access_token: string };
  return `Bearer ${access_token}`;
}

async function call(
  v: 'v1' | 'v2',
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Body; contentType: string | null }> {
  const res = await fetch(`${double.url}/api/${v}${path}`, {
    method,
    headers: {
      Authorization: v === 'v1' ? BASIC : await bearer(),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    json: (await res.json()) as Body,
    contentType: res.headers.get('content-type'),
  };
}

const taskState = async (v: 'v1' | 'v2', task: string) =>
  (await call(v, 'GET', `/dags/etl/dagRuns/${RUN}/taskInstances/${task}`)).json.state ?? null;

describe('Airflow double: triggering on v2', () => {
  it('rejects a trigger without the logical_date key with 422', async () => {
    const res = await call('v2', 'POST', '/dags/reporting/dagRuns', { dag_run_id: 'r1' });
    expect(res.status).toBe(422);
    expect(firstDetail(res.json)).toMatchObject({ type: 'missing', loc: ['body', 'logical_date'] });
  });

  it('rejects extra fields on a trigger with 422', async () => {
    const res = await call('v2', 'POST', '/dags/reporting/dagRuns', {
      dag_run_id: 'r1',
      logical_date: null,
      execution_date: null,
    });
    expect(res.status).toBe(422);
    expect(firstDetail(res.json)).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'execution_date'] });
  });

  it('answers 409 for an existing run id', async () => {
    const body = { dag_run_id: 'r1', logical_date: null };
    expect((await call('v2', 'POST', '/dags/reporting/dagRuns', body)).status).toBe(200);
    const again = await call('v2', 'POST', '/dags/reporting/dagRuns', body);
    expect(again.status).toBe(409);
    expect(typeof again.json.detail).toBe('string');
  });
});

describe('Airflow double: clearing', () => {
  it('only previews when dry_run is left out (Airflow default true)', async () => {
    const res = await call('v1', 'POST', '/dags/etl/clearTaskInstances', {
      dag_run_id: ETL_FAILED_RUN,
      task_ids: ['transform'],
      reset_dag_runs: true,
    });
    expect(res.json.task_instances).toEqual([
      {
        task_id: 'transform',
        dag_id: 'etl',
        dag_run_id: ETL_FAILED_RUN,
        execution_date: '2024-05-01T00:00:00+00:00',
      },
    ]);
    expect(double.taskState('etl', ETL_FAILED_RUN, 'transform')).toBe('failed');
  });

  it('leaves the run failed and the task stuck without reset_dag_runs on v1', async () => {
    await call('v1', 'POST', '/dags/etl/clearTaskInstances', {
      dag_run_id: ETL_FAILED_RUN,
      task_ids: ['transform'],
      dry_run: false,
    });
    const seen = [
      await taskState('v1', 'transform'),
      await taskState('v1', 'transform'),
      await taskState('v1', 'transform'),
    ];
    expect(seen).toEqual([null, null, null]);
    expect(double.runState('etl', ETL_FAILED_RUN)).toBe('failed');
  });

  it.each(['v1', 'v2'] as const)(
    'moves a %s clear through queued, running and the outcome, one step per read of the run',
    async (v) => {
      await call(v, 'POST', '/dags/etl/clearTaskInstances', {
        dag_run_id: ETL_FAILED_RUN,
        task_ids: ['transform'],
        include_downstream: true,
        reset_dag_runs: true,
        dry_run: false,
      });
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await call(v, 'GET', `/dags/etl/dagRuns/${RUN}/taskInstances`);
        seen.push((res.json.task_instances ?? []).map((t) => String(t.state)).join(','));
      }
      expect(seen).toEqual([
        'success,queued,null',
        'success,running,null',
        'success,success,queued',
        'success,success,running',
        'success,success,success',
      ]);
      expect(double.runState('etl', ETL_FAILED_RUN)).toBe('success');
      expect(double.tryNumber('etl', ETL_FAILED_RUN, 'transform')).toBe(2);
    },
  );

  it('fails a scripted task on its first executions and succeeds after that', async () => {
    double.scriptTask('etl', 'transform', {
      outcomes: ['failed', 'success'],
      queuedPolls: 2,
      runningPolls: 1,
    });
    const clearAndWatch = async () => {
      await call('v1', 'POST', '/dags/etl/clearTaskInstances', {
        dag_run_id: ETL_FAILED_RUN,
        task_ids: ['transform'],
        reset_dag_runs: true,
        dry_run: false,
      });
      const states: Array<string | null> = [];
      for (let i = 0; i < 4; i++) states.push(await taskState('v1', 'transform'));
      return states;
    };
    expect(await clearAndWatch()).toEqual(['queued', 'queued', 'running', 'failed']);
    expect(await clearAndWatch()).toEqual(['queued', 'queued', 'running', 'success']);
    expect(double.executions('etl', 'transform')).toBe(2);
  });

  it('runs a clock-scripted task by elapsed time, not by reads', async () => {
    double.scriptTask('etl', 'transform', { queuedMs: 10_000, runningMs: 60_000 });
    await call('v2', 'POST', '/dags/etl/clearTaskInstances', {
      dag_run_id: ETL_FAILED_RUN,
      task_ids: ['transform'],
      dry_run: false,
    });
    expect([await taskState('v2', 'transform'), await taskState('v2', 'transform')]).toEqual([
      'queued',
      'queued',
    ]);
    clockMs += 10_000;
    expect(await taskState('v2', 'transform')).toBe('running');
    clockMs += 59_999;
    expect(await taskState('v2', 'transform')).toBe('running');
    clockMs += 1;
    expect(await taskState('v2', 'transform')).toBe('success');
  });

  it('does not progress tasks of a paused DAG', async () => {
    await call('v2', 'PATCH', '/dags/etl?update_mask=is_paused', { is_paused: true });
    await call('v2', 'POST', '/dags/etl/clearTaskInstances', {
      dag_run_id: ETL_FAILED_RUN,
      task_ids: ['transform'],
      dry_run: false,
    });
    expect([await taskState('v2', 'transform'), await taskState('v2', 'transform')]).toEqual([
      'queued',
      'queued',
    ]);
  });
});

describe('Airflow double: protocol details', () => {
  it('decodes percent-encoded path segments and records the raw path', async () => {
    const res = await call('v1', 'GET', `/dags/etl/dagRuns/${RUN}`);
    expect(res.json.dag_run_id).toBe(ETL_FAILED_RUN);
    expect(double.requests[0]).toMatchObject({
      path: `/api/v1/dags/etl/dagRuns/${ETL_FAILED_RUN}`,
      rawPath: `/api/v1/dags/etl/dagRuns/${RUN}`,
      auth: 'basic',
      version: 'v1',
      status: 200,
    });
  });

  it('answers v1 errors as RFC 7807 problem JSON', async () => {
    const res = await call('v1', 'GET', '/dags/missing');
    expect(res.status).toBe(404);
    expect(res.contentType).toBe('application/problem+json');
    expect(res.json).toMatchObject({
      status: 404,
      title: 'DAG not found',
      detail: "DAG with dag_id: 'missing' not found",
    });
    expect(res.json.type).toMatch(/stable-rest-api-ref\.html#section\/Errors\/NotFound$/);
  });

  it('answers v2 errors as {detail}', async () => {
    const res = await call('v2', 'GET', '/dags/missing');
    expect(res.json).toEqual({ detail: "DAG with dag_id: 'missing' not found" });
  });

  it('refuses HTTP Basic on v2 and a bearer token on v1', async () => {
    const v2 = await fetch(`${double.url}/api/v2/dags/etl`, { headers: { Authorization: BASIC } });
    const v1 = await fetch(`${double.url}/api/v1/dags/etl`, { headers: { Authorization: await bearer() } });
    expect([v2.status, v1.status]).toEqual([401, 401]);
  });

  it('serves the version endpoints without authentication', async () => {
    const v1 = await fetch(`${double.url}/api/v1/version`);
    const v2 = await fetch(`${double.url}/api/v2/version`);
    expect([await v1.json(), await v2.json()]).toEqual([
      { version: '2.10.5', git_version: null },
      { version: '3.0.2', git_version: null },
    ]);
  });

  it('reads v1 dag_ids as one comma-separated value and v2 dag_ids as repeated values', async () => {
    const v1 = await call('v1', 'GET', '/datasets?dag_ids=etl&dag_ids=audit');
    const v2comma = await call('v2', 'GET', '/assets?dag_ids=etl,audit');
    expect((v1.json.datasets ?? []).map((d) => d.uri)).toEqual(['s3://audit/log']);
    expect(v2comma.json.assets).toEqual([]);
  });
});

describe('Airflow double: fault injection', () => {
  it('answers injected 500s in problem+json on v1 and {detail} on v2, N times, then serves again', async () => {
    const rule = double.injectFault({ method: 'GET', path: '/pools/warehouse', times: 2 });
    const v1 = await fetch(`${double.url}/api/v1/pools/warehouse`, { headers: { Authorization: BASIC } });
    expect(v1.status).toBe(500);
    expect(v1.headers.get('content-type')).toBe('application/problem+json');
    expect(await v1.json()).toEqual({
      detail: 'Internal Server Error (injected by the test)',
      status: 500,
      title: 'Internal Server Error',
      type: 'https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/Unknown',
    });
    const v2 = await call('v2', 'GET', '/pools/warehouse');
    expect(v2.status).toBe(500);
    expect(v2.json).toEqual({ detail: 'Internal Server Error (injected by the test)' });
    expect((await call('v1', 'GET', '/pools/warehouse')).status).toBe(200);
    expect(rule.hits()).toBe(2);
    expect(double.requestsTo('GET', '/pools/warehouse').map((r) => [r.status, r.fault])).toEqual([
      [500, 'rejected'],
      [500, 'rejected'],
      [200, undefined],
    ]);
  });

  it('fails every matching request for a period on the injected clock', async () => {
    double.injectFault({ path: '/pools/', status: 503, forMs: 60_000 });
    expect((await call('v1', 'GET', '/pools/warehouse')).status).toBe(503);
    clockMs += 59_000;
    const during = await call('v1', 'GET', '/pools/default_pool');
    expect([during.status, during.json.title]).toEqual([503, 'Service Unavailable']);
    clockMs += 1_000;
    expect((await call('v1', 'GET', '/pools/warehouse')).status).toBe(200);
  });

  it('does not carry out a rejected request, and does carry out one whose response is lost', async () => {
    double.injectFault({ method: 'PATCH', path: '/pools/warehouse' });
    const rejected = await call('v1', 'PATCH', '/pools/warehouse?update_mask=slots', {
      name: 'warehouse',
      slots: 9,
    });
    expect(rejected.status).toBe(500);
    expect(double.poolSlots('warehouse')).toBe(4);

    double.injectFault({ method: 'PATCH', path: '/pools/warehouse', afterHandling: true });
    const lost = await call('v2', 'PATCH', '/pools/warehouse?update_mask=slots', { slots: 9 });
    expect(lost.status).toBe(500);
    expect(lost.json).toEqual({ detail: 'Internal Server Error (injected by the test)' });
    expect(double.poolSlots('warehouse')).toBe(9);
    expect(double.requestsTo('PATCH', '/pools/warehouse').map((r) => r.fault)).toEqual([
      'rejected',
      'response_lost',
    ]);
  });

  it('slows matching requests down by their delay, and only those', async () => {
    const rule = double.slowDown({ method: 'GET', path: '/pools/warehouse', delayMs: 300, times: 1 });
    const t0 = performance.now();
    expect((await call('v1', 'GET', '/pools/warehouse')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect((await call('v1', 'GET', '/pools/warehouse')).status).toBe(200);
    expect(rule.hits()).toBe(1);
  });

  it('runs request hooks before handling the request', async () => {
    const seen: number[] = [];
    const remove = double.onRequest((r) => {
      if (r.method === 'PATCH') seen.push(double.poolSlots('warehouse'));
    });
    await call('v1', 'PATCH', '/pools/warehouse?update_mask=slots', { name: 'warehouse', slots: 6 });
    remove();
    await call('v1', 'PATCH', '/pools/warehouse?update_mask=slots', { name: 'warehouse', slots: 7 });
    expect(seen).toEqual([4]);
    expect(double.poolSlots('warehouse')).toBe(7);
  });
});

/**
 * Stateful Airflow REST API double serving Airflow 2 (`/api/v1`, HTTP Basic, RFC 7807 errors) and
 * Airflow 3 (`/api/v2`, JWT from `POST /auth/token`, FastAPI `{detail}` errors) at the same time, after
 * /work/shared/reference/external-apis.md §3. See test/doubles/README.md for the behaviour it models.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ApiVersion = 'v1' | 'v2';
export type AuthKind = 'basic' | 'bearer' | 'none' | 'other';
export type TaskOutcome = 'success' | 'failed' | 'upstream_failed' | 'skipped';

export interface RecordedRequest {
  method: string;
  /** Decoded path (segments URL-decoded), e.g. `/api/v1/dags/etl/dagRuns/scheduled__2024-05-01T00:00:00+00:00`. */
  path: string;
  /** The path exactly as sent (still percent-encoded). */
  rawPath: string;
  /** Every query parameter with all its values in order. */
  query: Record<string, string[]>;
  /** Parsed JSON body (undefined when none; the raw string when it is not JSON). */
  body: unknown;
  auth: AuthKind;
  version: ApiVersion | null;
  headers: Record<string, string | string[] | undefined>;
  /** Status the double answered with. */
  status: number;
  /**
   * Set when an injected fault answered: `rejected` (the request was not carried out) or `response_lost`
   * (it was carried out, then answered with the error).
   */
  fault?: 'rejected' | 'response_lost';
}

/**
 * How a task behaves each time the scheduler runs it after a clear (with `reset_dag_runs`) or a trigger.
 * `outcomes[n]` is the result of the n-th execution of this DAG's task (across runs); the last entry
 * repeats. Progress is counted in observations (GETs of the run or its task instances, counted after
 * answering) unless `queuedMs`/`runningMs` are set, in which case the injected clock decides.
 */
export interface TaskScript {
  outcomes?: TaskOutcome[];
  /** Observations spent in `queued` before `running` (default 1). */
  queuedPolls?: number;
  /** Observations spent in `running` before the outcome (default 1). */
  runningPolls?: number;
  /** Clock mode: time in `queued`. */
  queuedMs?: number;
  /** Clock mode: time in `running`. */
  runningMs?: number;
}

export interface FailureRule {
  method?: string;
  /** Matched against the decoded path (a string must be contained in it). */
  path?: string | RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many requests to fail (default 1). */
  times?: number;
}

/** Server errors injected in Airflow's own error shape (v1 problem+json, v2 `{detail}`). */
export interface FaultRule {
  method?: string;
  /** Matched against the decoded path (a string must be contained in it). */
  path?: string | RegExp;
  /** 500 (default), 502, 503 or 504. */
  status?: number;
  /** How many matching requests fail (default 1, or unlimited within `forMs`). */
  times?: number;
  /** Fail matching requests for this long after the rule is added, on the injected clock `now`. */
  forMs?: number;
  /** Carry the request out first, then answer the error: the change is made but the caller never learns it. */
  afterHandling?: boolean;
}

/** Slow answers: matching requests wait `delayMs` (wall clock) before they are handled. */
export interface SlowRule {
  method?: string;
  path?: string | RegExp;
  delayMs: number;
  /** How many matching requests are slowed (default: all). */
  times?: number;
}

/** An added fault or slow rule. */
export interface InjectedRule {
  /** Requests the rule has affected so far. */
  hits(): number;
  remove(): void;
}

export interface AirflowDoubleOptions {
  username?: string;
  password?: string;
  /** Which API versions answer (default both). A missing one answers 404 like a real server. */
  versions?: ApiVersion[];
  /** JWT lifetime on the injected clock (default 1 h). */
  tokenLifetimeMs?: number;
  now?: () => number;
  /** Listening port on 127.0.0.1 (default 0: a free one). */
  port?: number;
}

export interface DagSeed {
  dagId: string;
  /** Plain strings form a linear chain (a → b → c); objects name their upstream tasks. */
  tasks?: Array<string | { taskId: string; upstream?: string[] }>;
  isPaused?: boolean;
  owners?: string[];
  tags?: string[];
  description?: string;
}

export interface RunSeed {
  dagId: string;
  runId: string;
  state: 'queued' | 'running' | 'success' | 'failed';
  logicalDate?: string | null;
  runType?: string;
  /** Task states by task id (default: `success` in a successful run, else no state). */
  taskStates?: Record<string, string | null>;
  tryNumbers?: Record<string, number>;
  /** Seconds each task ran (finished tasks end at seeding time; a running task started that long ago). */
  durations?: Record<string, number>;
}

export interface PoolSeed {
  name: string;
  slots: number;
  occupiedSlots?: number;
  description?: string;
}

export interface DatasetSeed {
  uri: string;
  name?: string;
  producers: Array<{ dagId: string; taskId: string }>;
  consumers: string[];
}

interface TaskDef {
  upstream: string[];
}

interface Dag {
  dagId: string;
  isPaused: boolean;
  tasks: Map<string, TaskDef>;
  order: string[];
  owners: string[];
  tags: string[];
  description: string | null;
}

interface Activation {
  phase: 'waiting' | 'queued' | 'running';
  polls: number;
  phaseSince: number;
}

interface Ti {
  taskId: string;
  mapIndex: number;
  state: string | null;
  tryNumber: number;
  maxTries: number;
  startDate: number | null;
  endDate: number | null;
  queuedWhen: number | null;
  activation: Activation | null;
  uuid: string;
}

interface Run {
  id: number;
  dagId: string;
  runId: string;
  state: string;
  logicalDate: string | null;
  runType: string;
  conf: Record<string, unknown>;
  note: string | null;
  queuedAt: number;
  startDate: number | null;
  endDate: number | null;
  tis: Map<string, Ti>;
}

interface Pool {
  name: string;
  slots: number;
  occupiedSlots: number;
  description: string | null;
  includeDeferred: boolean;
}

interface Dataset {
  id: number;
  uri: string;
  name: string;
  producers: Array<{ dagId: string; taskId: string }>;
  consumers: string[];
}

const SERVER_ERROR_TITLES: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
const FINISHED = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
const V1_VERSION = '2.10.5';
const V2_VERSION = '3.0.2';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly title?: string,
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace('Z', '+00:00');
}

export interface AirflowDouble {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
  addDag(seed: DagSeed): void;
  addRun(seed: RunSeed): void;
  scriptTask(dagId: string, taskId: string, script: TaskScript): void;
  setLog(dagId: string, runId: string, taskId: string, tryNumber: number, text: string): void;
  addPool(seed: PoolSeed): void;
  addDataset(seed: DatasetSeed): void;
  failNext(rule: FailureRule): void;
  /** Answers matching requests with Airflow server errors (N times, or for a period). */
  injectFault(rule: FaultRule): InjectedRule;
  /** Delays matching requests. */
  slowDown(rule: SlowRule): InjectedRule;
  /** Runs `fn` (awaited) for each request before it is handled. Returns a function that removes it. */
  onRequest(fn: (request: RecordedRequest) => void | Promise<void>): () => void;
  /** Invalidates every issued JWT (the next v2 call gets 401). */
  expireTokens(): void;
  taskState(dagId: string, runId: string, taskId: string): string | null;
  tryNumber(dagId: string, runId: string, taskId: string): number;
  runState(dagId: string, runId: string): string;
  isPaused(dagId: string): boolean;
  poolSlots(name: string): number;
  /** Executions started for a DAG's task so far (across runs). */
  executions(dagId: string, taskId: string): number;
  /** Requests whose method matches and whose decoded path contains / matches `path`. */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[];
}

export async function startAirflowDouble(options: AirflowDoubleOptions = {}): Promise<AirflowDouble> {
  const username = options.username ?? 'admin';
  const password = options.password ?? 'admin';
  const versions = new Set(options.versions ?? ['v1', 'v2']);
  const tokenLifetimeMs = options.tokenLifetimeMs ?? 3_600_000;
  const now = options.now ?? Date.now;

  const dags = new Map<string, Dag>();
  const runs = new Map<string, Run>();
  const scripts = new Map<string, TaskScript>();
  const executionCounts = new Map<string, number>();
  const logs = new Map<string, string>();
  const pools = new Map<string, Pool>();
  const datasets: Dataset[] = [];
  const failures: Array<FailureRule & { left: number }> = [];
  type Live<T> = T & { left: number; until: number; hits: number };
  const faults: Array<Live<FaultRule>> = [];
  const slow: Array<Live<SlowRule>> = [];
  const hooks = new Set<(request: RecordedRequest) => void | Promise<void>>();
  const tokens = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  let runSeq = 0;

  const runKey = (dagId: string, runId: string) => `${dagId}\u0000${runId}`;
  const taskKey = (dagId: string, taskId: string) => `${dagId}\u0000${taskId}`;
  const logKey = (dagId: string, runId: string, taskId: string, tryNumber: number) =>
    `${dagId}\u0000${runId}\u0000${taskId}\u0000${tryNumber}`;

  function getDag(dagId: string): Dag {
    const dag = dags.get(dagId);
    if (!dag) throw new HttpError(404, `DAG with dag_id: '${dagId}' not found`, 'DAG not found');
    return dag;
  }

  function getRun(dagId: string, runId: string): Run {
    getDag(dagId);
    const run = runs.get(runKey(dagId, runId));
    if (!run) {
      throw new HttpError(
        404,
        `DAGRun with DAG ID: '${dagId}' and DagRun ID: '${runId}' not found`,
        'DAGRun not found',
      );
    }
    return run;
  }

  function getTi(run: Run, taskId: string, mapIndex = -1): Ti {
    const ti = run.tis.get(taskId);
    if (!ti || ti.mapIndex !== mapIndex) {
      throw new HttpError(404, 'Task instance not found', 'Task instance not found');
    }
    return ti;
  }

  function scriptFor(dagId: string, taskId: string): TaskScript {
    return scripts.get(taskKey(dagId, taskId)) ?? {};
  }

  // ---- scheduler model ------------------------------------------------------------------------------

  function startExecution(run: Run, ti: Ti, at: number): void {
    const k = taskKey(run.dagId, ti.taskId);
    executionCounts.set(k, (executionCounts.get(k) ?? 0) + 1);
    ti.tryNumber += 1;
    ti.state = 'running';
    ti.startDate = at;
    ti.endDate = null;
    ti.activation = { phase: 'running', polls: 0, phaseSince: at };
  }

  function finishExecution(run: Run, ti: Ti, at: number): void {
    const script = scriptFor(run.dagId, ti.taskId);
    const outcomes = script.outcomes && script.outcomes.length > 0 ? script.outcomes : ['success'];
    const n = (executionCounts.get(taskKey(run.dagId, ti.taskId)) ?? 1) - 1;
    const outcome = outcomes[Math.min(n, outcomes.length - 1)] ?? 'success';
    ti.state = outcome;
    ti.endDate = at;
    ti.activation = null;
    const key = logKey(run.dagId, run.runId, ti.taskId, ti.tryNumber);
    if (!logs.has(key)) {
      const level = outcome === 'success' ? 'INFO' : 'ERROR';
      logs.set(
        key,
        [
          `[${iso(ti.startDate)}] {taskinstance.py} INFO - Starting attempt ${ti.tryNumber} of ${ti.maxTries + 1}`,
          `[${iso(at)}] {taskinstance.py} ${level} - Marking task as ${outcome.toUpperCase()}. dag_id=${run.dagId}, task_id=${ti.taskId}, run_id=${run.runId}`,
        ].join('\n'),
      );
    }
  }

  /** Moves the run's activated task instances along. `countPoll`: this call is one observation. */
  function advance(run: Run, countPoll: boolean): void {
    const dag = dags.get(run.dagId);
    if (!dag || dag.isPaused) return;
    if (run.state !== 'queued' && run.state !== 'running') return;
    const at = now();
    for (const taskId of dag.order) {
      const ti = run.tis.get(taskId);
      if (!ti?.activation) continue;
      const act = ti.activation;
      if (act.phase === 'waiting') {
        const upstream = (dag.tasks.get(taskId)?.upstream ?? []).map((u) => run.tis.get(u)?.state ?? null);
        if (upstream.some((s) => s === 'failed' || s === 'upstream_failed')) {
          ti.state = 'upstream_failed';
          ti.endDate = at;
          ti.activation = null;
        } else if (upstream.every((s) => s === 'success' || s === 'skipped')) {
          ti.state = 'queued';
          ti.queuedWhen = at;
          ti.activation = { phase: 'queued', polls: 0, phaseSince: at };
        }
        continue;
      }
      const script = scriptFor(run.dagId, taskId);
      if (script.queuedMs !== undefined || script.runningMs !== undefined) {
        const queuedMs = script.queuedMs ?? 0;
        const runningMs = script.runningMs ?? 0;
        if (act.phase === 'queued' && at - act.phaseSince >= queuedMs) {
          startExecution(run, ti, act.phaseSince + queuedMs);
        }
        const a = ti.activation;
        if (a?.phase === 'running' && at - a.phaseSince >= runningMs)
          finishExecution(run, ti, a.phaseSince + runningMs);
      } else if (countPoll) {
        act.polls += 1;
        if (act.phase === 'queued' && act.polls >= (script.queuedPolls ?? 1)) startExecution(run, ti, at);
        else if (act.phase === 'running' && act.polls >= (script.runningPolls ?? 1))
          finishExecution(run, ti, at);
      }
    }
    updateRunState(run, countPoll);
  }

  function updateRunState(run: Run, countPoll: boolean): void {
    const tis = [...run.tis.values()];
    const at = now();
    if (tis.length === 0) {
      if (!countPoll) return;
      if (run.state === 'queued') {
        run.state = 'running';
        run.startDate = at;
      } else {
        run.state = 'success';
        run.endDate = at;
      }
      return;
    }
    if (tis.every((t) => t.state !== null && FINISHED.has(t.state))) {
      run.state = tis.some((t) => t.state === 'failed' || t.state === 'upstream_failed')
        ? 'failed'
        : 'success';
      run.endDate = at;
    } else if (tis.some((t) => t.state !== null)) {
      if (run.state === 'queued') run.startDate = at;
      run.state = 'running';
    }
  }

  function activate(run: Run, ti: Ti, dag: Dag): void {
    const upstream = (dag.tasks.get(ti.taskId)?.upstream ?? []).map((u) => run.tis.get(u)?.state ?? null);
    const ready = upstream.every((s) => s === 'success' || s === 'skipped');
    const at = now();
    ti.endDate = null;
    if (ready) {
      ti.state = 'queued';
      ti.queuedWhen = at;
      ti.activation = { phase: 'queued', polls: 0, phaseSince: at };
    } else {
      ti.state = null;
      ti.activation = { phase: 'waiting', polls: 0, phaseSince: at };
    }
  }

  // ---- JSON views -----------------------------------------------------------------------------------

  function dagJson(dag: Dag, v: ApiVersion): Record<string, unknown> {
    const common = {
      dag_id: dag.dagId,
      dag_display_name: dag.dagId,
      is_paused: dag.isPaused,
      description: dag.description,
      fileloc: `/opt/airflow/dags/${dag.dagId}.py`,
      owners: dag.owners,
      max_active_runs: 16,
      has_import_errors: false,
    };
    return v === 'v1'
      ? {
          ...common,
          is_active: true,
          is_subdag: false,
          root_dag_id: null,
          file_token: 'Ii9vcHQvYWlyZmxvdy9kYWdzIg.token',
          tags: dag.tags.map((name) => ({ name })),
          schedule_interval: { __type: 'CronExpression', value: '0 0 * * *' },
          timetable_description: 'At 00:00',
        }
      : {
          ...common,
          is_stale: false,
          bundle_name: 'dags-folder',
          tags: dag.tags.map((name) => ({ name, dag_id: dag.dagId })),
          timetable_summary: '0 0 * * *',
        };
  }

  function runJson(run: Run, v: ApiVersion): Record<string, unknown> {
    const common = {
      dag_run_id: run.runId,
      dag_id: run.dagId,
      logical_date: run.logicalDate,
      start_date: iso(run.startDate),
      end_date: iso(run.endDate),
      data_interval_start: run.logicalDate,
      data_interval_end: run.logicalDate,
      last_scheduling_decision: null,
      run_type: run.runType,
      state: run.state,
      conf: run.conf,
      note: run.note,
    };
    return v === 'v1'
      ? { ...common, execution_date: run.logicalDate, external_trigger: run.runType === 'manual' }
      : {
          ...common,
          queued_at: iso(run.queuedAt),
          run_after: run.logicalDate ?? iso(run.queuedAt),
          triggered_by: run.runType === 'manual' ? 'rest_api' : 'timetable',
          dag_versions: [],
          bundle_version: null,
          dag_display_name: run.dagId,
        };
  }

  function tiJson(run: Run, ti: Ti, v: ApiVersion): Record<string, unknown> {
    const common = {
      task_id: ti.taskId,
      dag_id: run.dagId,
      dag_run_id: run.runId,
      map_index: ti.mapIndex,
      state: ti.state,
      try_number: ti.tryNumber,
      max_tries: ti.maxTries,
      start_date: iso(ti.startDate),
      end_date: iso(ti.endDate),
      duration: ti.startDate !== null && ti.endDate !== null ? (ti.endDate - ti.startDate) / 1000 : null,
      hostname: ti.startDate !== null ? 'worker-1' : '',
      pool: 'default_pool',
      pool_slots: 1,
      queue: 'default',
      priority_weight: 1,
      operator: 'PythonOperator',
      queued_when: iso(ti.queuedWhen),
      pid: null,
      executor: null,
      executor_config: '{}',
      note: null,
      rendered_fields: {},
      trigger: null,
      triggerer_job: null,
    };
    return v === 'v1'
      ? { ...common, execution_date: run.logicalDate, sla_miss: null, unixname: 'airflow' }
      : {
          ...common,
          id: ti.uuid,
          logical_date: run.logicalDate,
          run_after: run.logicalDate ?? iso(run.queuedAt),
          scheduled_when: iso(ti.queuedWhen),
          task_display_name: ti.taskId,
          dag_version: null,
        };
  }

  function poolJson(pool: Pool): Record<string, unknown> {
    return {
      name: pool.name,
      slots: pool.slots,
      occupied_slots: pool.occupiedSlots,
      running_slots: pool.occupiedSlots,
      queued_slots: 0,
      scheduled_slots: 0,
      deferred_slots: 0,
      open_slots: pool.slots - pool.occupiedSlots,
      description: pool.description,
      include_deferred: pool.includeDeferred,
    };
  }

  function datasetJson(d: Dataset, v: ApiVersion): Record<string, unknown> {
    const stamp = '2024-05-01T00:00:00+00:00';
    const common = {
      id: d.id,
      uri: d.uri,
      extra: {},
      created_at: stamp,
      updated_at: stamp,
      consuming_dags: d.consumers.map((dagId) => ({ dag_id: dagId, created_at: stamp, updated_at: stamp })),
      producing_tasks: d.producers.map((p) => ({
        dag_id: p.dagId,
        task_id: p.taskId,
        created_at: stamp,
        updated_at: stamp,
      })),
    };
    return v === 'v1'
      ? common
      : {
          ...common,
          name: d.name,
          group: 'asset',
          aliases: [],
          last_asset_event_id: null,
          last_asset_event_timestamp: null,
        };
  }

  // ---- request validation ---------------------------------------------------------------------------

  function checkKeys(body: Record<string, unknown>, allowed: string[], v: ApiVersion): void {
    const extra = Object.keys(body).filter((k) => !allowed.includes(k));
    if (extra.length === 0) return;
    if (v === 'v1') {
      throw new HttpError(
        400,
        `{${extra.map((k) => `'${k}': ['Unknown field.']`).join(', ')}}`,
        'Bad Request',
      );
    }
    throw new HttpError(
      422,
      extra.map((k) => ({
        type: 'extra_forbidden',
        loc: ['body', k],
        msg: 'Extra inputs are not permitted',
        input: body[k],
      })),
    );
  }

  function objectBody(body: unknown, v: ApiVersion): Record<string, unknown> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      if (v === 'v1') throw new HttpError(400, 'Request body must be a JSON object', 'Bad Request');
      throw new HttpError(422, [
        { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary' },
      ]);
    }
    return body as Record<string, unknown>;
  }

  function boolField(body: Record<string, unknown>, key: string, dflt: boolean, v: ApiVersion): boolean {
    const value = body[key];
    if (value === undefined) return dflt;
    if (typeof value === 'boolean') return value;
    if (v === 'v1') throw new HttpError(400, `{'${key}': ['Not a valid boolean.']}`, 'Bad Request');
    throw new HttpError(422, [
      { type: 'bool_parsing', loc: ['body', key], msg: 'Input should be a valid boolean' },
    ]);
  }

  // ---- endpoints ------------------------------------------------------------------------------------

  function clearTaskInstances(dagId: string, rawBody: unknown, v: ApiVersion): unknown {
    const body = objectBody(rawBody, v);
    const allowed = [
      'dry_run',
      'start_date',
      'end_date',
      'only_failed',
      'only_running',
      'reset_dag_runs',
      'task_ids',
      'dag_run_id',
      'include_upstream',
      'include_downstream',
      'include_future',
      'include_past',
    ];
    checkKeys(body, v === 'v1' ? [...allowed, 'include_subdags', 'include_parentdag'] : allowed, v);
    const dag = getDag(dagId);
    const dryRun = boolField(body, 'dry_run', true, v);
    const onlyFailed = boolField(body, 'only_failed', true, v);
    const onlyRunning = boolField(body, 'only_running', false, v);
    const resetDagRuns = boolField(body, 'reset_dag_runs', v === 'v2', v);
    const includeDownstream = boolField(body, 'include_downstream', false, v);
    const includeUpstream = boolField(body, 'include_upstream', false, v);
    if (typeof body.dag_run_id !== 'string') {
      throw new HttpError(400, 'the double supports clearing by dag_run_id only', 'Bad Request');
    }
    const run = getRun(dagId, body.dag_run_id);
    const requested = new Set<string>();
    for (const item of Array.isArray(body.task_ids) ? (body.task_ids as unknown[]) : [...dag.order]) {
      if (typeof item === 'string') requested.add(item);
      else if (v === 'v2' && Array.isArray(item) && typeof item[0] === 'string') requested.add(item[0]);
      else if (v === 'v1') throw new HttpError(400, "{'task_ids': ['Not a valid string.']}", 'Bad Request');
      else
        throw new HttpError(422, [
          { type: 'string_type', loc: ['body', 'task_ids'], msg: 'Input should be a valid string' },
        ]);
    }
    const related = (start: Set<string>, next: (t: string) => string[]) => {
      const out = new Set(start);
      const stack = [...start];
      while (stack.length > 0) {
        for (const n of next(stack.pop()!)) {
          if (!out.has(n)) {
            out.add(n);
            stack.push(n);
          }
        }
      }
      return out;
    };
    let selected = new Set(requested);
    if (includeDownstream) {
      selected = related(selected, (t) => dag.order.filter((d) => dag.tasks.get(d)?.upstream.includes(t)));
    }
    if (includeUpstream) {
      const up = related(requested, (t) => dag.tasks.get(t)?.upstream ?? []);
      for (const t of up) selected.add(t);
    }
    const affected = dag.order
      .filter((t) => selected.has(t))
      .map((t) => run.tis.get(t))
      .filter((ti): ti is Ti => ti !== undefined)
      .filter((ti) => !onlyFailed || ti.state === 'failed' || ti.state === 'upstream_failed')
      .filter((ti) => !onlyRunning || ti.state === 'running');

    if (!dryRun) {
      if (resetDagRuns) {
        run.state = 'queued';
        run.endDate = null;
      }
      for (const ti of affected) {
        if (resetDagRuns) {
          ti.state = null;
          ti.activation = { phase: 'waiting', polls: 0, phaseSince: now() };
        } else {
          // Without reset_dag_runs the run stays finished: the scheduler never looks at this task again.
          ti.state = null;
          ti.endDate = null;
          ti.activation = null;
        }
      }
      if (resetDagRuns) for (const ti of affected) activate(run, ti, dag);
    }
    if (v === 'v1') {
      return {
        task_instances: affected.map((ti) => ({
          task_id: ti.taskId,
          dag_id: dagId,
          dag_run_id: run.runId,
          execution_date: run.logicalDate,
        })),
      };
    }
    return { task_instances: affected.map((ti) => tiJson(run, ti, v)), total_entries: affected.length };
  }

  function triggerDagRun(dagId: string, rawBody: unknown, v: ApiVersion): unknown {
    const body = objectBody(rawBody, v);
    if (v === 'v1') {
      checkKeys(
        body,
        [
          'dag_run_id',
          'logical_date',
          'execution_date',
          'conf',
          'note',
          'data_interval_start',
          'data_interval_end',
        ],
        v,
      );
    } else {
      checkKeys(
        body,
        [
          'dag_run_id',
          'logical_date',
          'run_after',
          'data_interval_start',
          'data_interval_end',
          'conf',
          'note',
        ],
        v,
      );
      if (!('logical_date' in body)) {
        throw new HttpError(422, [
          { type: 'missing', loc: ['body', 'logical_date'], msg: 'Field required', input: body },
        ]);
      }
    }
    const dag = getDag(dagId);
    const at = now();
    const runId = typeof body.dag_run_id === 'string' ? body.dag_run_id : `manual__${iso(at)}`;
    if (runs.has(runKey(dagId, runId))) {
      throw new HttpError(
        409,
        `DAGRun with DAG ID: '${dagId}' and DAGRun ID: '${runId}' already exists`,
        'Conflict',
      );
    }
    const given = body.logical_date ?? body.execution_date;
    const logicalDate = typeof given === 'string' ? given : v === 'v1' ? iso(at) : null;
    const run: Run = {
      id: ++runSeq,
      dagId,
      runId,
      state: 'queued',
      logicalDate,
      runType: 'manual',
      conf: (body.conf as Record<string, unknown> | undefined) ?? {},
      note: typeof body.note === 'string' ? body.note : null,
      queuedAt: at,
      startDate: null,
      endDate: null,
      tis: new Map(),
    };
    for (const taskId of dag.order) {
      run.tis.set(taskId, newTi(taskId, null, 0));
    }
    for (const ti of run.tis.values()) activate(run, ti, dag);
    runs.set(runKey(dagId, runId), run);
    return runJson(run, v);
  }

  function newTi(taskId: string, state: string | null, tryNumber: number): Ti {
    return {
      taskId,
      mapIndex: -1,
      state,
      tryNumber,
      maxTries: 2,
      startDate: null,
      endDate: null,
      queuedWhen: null,
      activation: null,
      uuid: randomUUID(),
    };
  }

  function listRuns(dagId: string, query: URLSearchParams, v: ApiVersion): unknown {
    getDag(dagId);
    const states = query.getAll('state');
    let list = [...runs.values()].filter((r) => r.dagId === dagId);
    for (const r of list) advance(r, false);
    if (states.length > 0) list = list.filter((r) => states.includes(r.state));
    const orderBy = query.get('order_by') ?? 'id';
    const desc = orderBy.startsWith('-');
    const field = desc ? orderBy.slice(1) : orderBy;
    const dateField = v === 'v1' ? 'execution_date' : 'logical_date';
    const sortKey: Record<string, (r: Run) => string | number> = {
      id: (r) => r.id,
      dag_run_id: (r) => r.runId,
      start_date: (r) => r.startDate ?? 0,
      end_date: (r) => r.endDate ?? 0,
      state: (r) => r.state,
      [dateField]: (r) => r.logicalDate ?? '',
    };
    const key = sortKey[field];
    if (!key) {
      throw new HttpError(
        400,
        `Ordering with '${field}' is disallowed or the attribute does not exist on the model`,
        'Bad Request',
      );
    }
    list.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -c : c;
    });
    const total = list.length;
    const offset = Number(query.get('offset') ?? 0);
    const limit = Number(query.get('limit') ?? (v === 'v1' ? 100 : 50));
    const page = list.slice(offset, offset + limit);
    const out = { dag_runs: page.map((r) => runJson(r, v)), total_entries: total };
    return { body: out, after: () => list.forEach((r) => advance(r, true)) };
  }

  function listDatasets(query: URLSearchParams, v: ApiVersion): unknown {
    let wanted: string[] | null = null;
    if (query.has('dag_ids')) {
      // v1 declares dag_ids as one comma-separated string (a repeated parameter keeps only one value);
      // v2 declares it as an array: each value is one DAG id, commas included.
      wanted = v === 'v1' ? (query.getAll('dag_ids').pop() ?? '').split(',') : query.getAll('dag_ids');
    }
    const list = datasets.filter(
      (d) =>
        wanted === null ||
        d.consumers.some((c) => wanted.includes(c)) ||
        d.producers.some((p) => wanted.includes(p.dagId)),
    );
    const offset = Number(query.get('offset') ?? 0);
    const limit = Number(query.get('limit') ?? (v === 'v1' ? 100 : 50));
    const items = list.slice(offset, offset + limit).map((d) => datasetJson(d, v));
    return v === 'v1'
      ? { datasets: items, total_entries: list.length }
      : { assets: items, total_entries: list.length };
  }

  function patchDag(dagId: string, query: URLSearchParams, rawBody: unknown, v: ApiVersion): unknown {
    const dag = getDag(dagId);
    const body = objectBody(rawBody, v);
    const mask = query.getAll('update_mask').flatMap((m) => m.split(','));
    if (mask.length > 0 && mask.some((m) => m.trim() !== 'is_paused')) {
      throw new HttpError(400, `Only 'is_paused' can be updated; got ${mask.join(',')}`, 'Bad Request');
    }
    if (v === 'v2') checkKeys(body, ['is_paused'], v);
    dag.isPaused = boolField(body, 'is_paused', dag.isPaused, v);
    return dagJson(dag, v);
  }

  function patchPool(name: string, query: URLSearchParams, rawBody: unknown, v: ApiVersion): unknown {
    const pool = pools.get(name);
    if (!pool) throw new HttpError(404, `Pool with name:'${name}' not found`, 'Pool not found');
    const body = objectBody(rawBody, v);
    checkKeys(
      body,
      v === 'v1'
        ? ['name', 'slots', 'description', 'include_deferred']
        : ['pool', 'name', 'slots', 'description', 'include_deferred'],
      v,
    );
    const mask = query.getAll('update_mask').flatMap((m) => m.split(',').map((s) => s.trim()));
    if (v === 'v1' && mask.length === 0 && (body.name === undefined || body.slots === undefined)) {
      throw new HttpError(400, "Missing required property(ies): ['name', 'slots']", 'Bad Request');
    }
    const fields = mask.length > 0 ? mask : Object.keys(body);
    if (fields.includes('slots')) {
      if (typeof body.slots !== 'number' || !Number.isInteger(body.slots)) {
        if (v === 'v1') throw new HttpError(400, "{'slots': ['Not a valid integer.']}", 'Bad Request');
        throw new HttpError(422, [
          { type: 'int_type', loc: ['body', 'slots'], msg: 'Input should be a valid integer' },
        ]);
      }
      pool.slots = body.slots;
    }
    if (fields.includes('description') && typeof body.description === 'string')
      pool.description = body.description;
    return poolJson(pool);
  }

  function taskLog(run: Run, taskId: string, tryNumber: number, accept: string, v: ApiVersion) {
    const ti = getTi(run, taskId);
    const text = logs.get(logKey(run.dagId, run.runId, taskId, tryNumber));
    if (text === undefined && (tryNumber < 1 || tryNumber > ti.tryNumber)) {
      throw new HttpError(404, 'TaskInstance not found', 'Not Found');
    }
    const content = text ?? '';
    if (v === 'v1') {
      if (accept.includes('text/plain')) return { text: content };
      return { json: { continuation_token: null, content } };
    }
    const lines = content === '' ? [] : content.split('\n');
    return {
      json: {
        content: [
          {
            event: '::group::Log message source details',
            sources: [`/opt/airflow/logs/dag_id=${run.dagId}/attempt=${tryNumber}.log`],
          },
          { event: '::endgroup::' },
          ...lines.map((event) => ({ timestamp: iso(ti.startDate), level: 'info', event })),
        ],
        continuation_token: null,
      },
    };
  }

  // ---- HTTP plumbing --------------------------------------------------------------------------------

  function authKind(header: string | undefined): AuthKind {
    if (!header) return 'none';
    if (header.startsWith('Basic ')) return 'basic';
    if (header.startsWith('Bearer ')) return 'bearer';
    return 'other';
  }

  function checkAuth(v: ApiVersion, header: string | undefined): void {
    if (v === 'v1') {
      const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      if (header !== expected) throw new HttpError(401, null, 'Unauthorized');
      return;
    }
    if (!header?.startsWith('Bearer ')) throw new HttpError(401, 'Not authenticated');
    const exp = tokens.get(header.slice('Bearer '.length));
    if (exp === undefined || exp <= now()) throw new HttpError(401, 'Invalid JWT token');
  }

  function issueToken(): string {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = now() + tokenLifetimeMs;
    const jwt = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64({ sub: username, exp: Math.floor(exp / 1000) })}.${randomBytes(16).toString('base64url')}`;
    tokens.set(jwt, exp);
    return jwt;
  }

  type Handled = { status?: number; body?: unknown; text?: string; after?: () => void };

  function route(
    method: string,
    segs: string[],
    query: URLSearchParams,
    body: unknown,
    req: IncomingMessage,
  ): Handled {
    if (segs[0] === 'auth' && segs[1] === 'token' && segs.length === 2 && versions.has('v2')) {
      if (method !== 'POST') throw new HttpError(405, 'Method Not Allowed');
      const b = objectBody(body, 'v2');
      if (b.username !== username || b.password !== password) throw new HttpError(401, 'Invalid credentials');
      return { status: 201, body: { access_token: issueToken() } };
    }
    const v = segs[1];
    if (segs[0] !== 'api' || (v !== 'v1' && v !== 'v2') || !versions.has(v))
      throw new HttpError(404, 'Not Found');
    const rest = segs.slice(2);
    const r = rest.join('/');
    if (method === 'GET' && r === 'version')
      return { body: { version: v === 'v1' ? V1_VERSION : V2_VERSION, git_version: null } };
    if (method === 'GET' && ((v === 'v1' && r === 'health') || (v === 'v2' && r === 'monitor/health'))) {
      return { body: { metadatabase: { status: 'healthy' }, scheduler: { status: 'healthy' } } };
    }
    checkAuth(v, req.headers.authorization);

    const [a, dagId, b, runId, c, taskId, d, e] = rest;
    if (a === 'dags' && dagId !== undefined) {
      if (rest.length === 2 && method === 'GET') return { body: dagJson(getDag(dagId), v) };
      if (rest.length === 2 && method === 'PATCH') return { body: patchDag(dagId, query, body, v) };
      if (rest.length === 3 && b === 'clearTaskInstances' && method === 'POST') {
        return { body: clearTaskInstances(dagId, body, v) };
      }
      if (b === 'dagRuns') {
        if (rest.length === 3 && method === 'GET') return listRuns(dagId, query, v) as Handled;
        if (rest.length === 3 && method === 'POST') return { body: triggerDagRun(dagId, body, v) };
        if (runId === undefined) throw new HttpError(404, 'Not Found');
        const run = getRun(dagId, runId);
        advance(run, false);
        const after = () => advance(run, true);
        if (rest.length === 4 && method === 'GET') return { body: runJson(run, v), after };
        if (c === 'taskInstances' && method === 'GET') {
          if (rest.length === 5) {
            const tis = [...run.tis.values()];
            const offset = Number(query.get('offset') ?? 0);
            const limit = Number(query.get('limit') ?? (v === 'v1' ? 100 : 50));
            return {
              body: {
                task_instances: tis.slice(offset, offset + limit).map((t) => tiJson(run, t, v)),
                total_entries: tis.length,
              },
              after,
            };
          }
          if (taskId !== undefined && rest.length === 6)
            return { body: tiJson(run, getTi(run, taskId), v), after };
          if (taskId !== undefined && rest.length === 7 && d !== undefined && /^\d+$/.test(d)) {
            return { body: tiJson(run, getTi(run, taskId, Number(d)), v), after };
          }
          if (
            taskId !== undefined &&
            rest.length === 8 &&
            d === 'logs' &&
            e !== undefined &&
            /^\d+$/.test(e)
          ) {
            const out = taskLog(run, taskId, Number(e), String(req.headers.accept ?? ''), v);
            return 'text' in out ? { text: out.text } : { body: out.json };
          }
        }
      }
    }
    if (a === 'pools' && dagId !== undefined && rest.length === 2) {
      if (method === 'GET') {
        const pool = pools.get(dagId);
        if (!pool) throw new HttpError(404, `Pool with name:'${dagId}' not found`, 'Pool not found');
        return { body: poolJson(pool) };
      }
      if (method === 'PATCH') return { body: patchPool(dagId, query, body, v) };
    }
    if (
      rest.length === 1 &&
      method === 'GET' &&
      ((v === 'v1' && a === 'datasets') || (v === 'v2' && a === 'assets'))
    ) {
      return { body: listDatasets(query, v) };
    }
    throw new HttpError(404, 'Not Found');
  }

  function sendError(res: ServerResponse, err: HttpError, v: ApiVersion | null): number {
    if (v === 'v1') {
      const kind = {
        400: 'BadRequest',
        401: 'Unauthenticated',
        403: 'PermissionDenied',
        404: 'NotFound',
        409: 'AlreadyExists',
      }[err.status];
      res.writeHead(err.status, {
        'Content-Type': 'application/problem+json',
        ...(err.status === 401 ? { 'WWW-Authenticate': 'Basic' } : {}),
      });
      res.end(
        JSON.stringify({
          detail: err.detail,
          status: err.status,
          title: err.title ?? 'Error',
          type: `https://airflow.apache.org/docs/apache-airflow/${V1_VERSION}/stable-rest-api-ref.html#section/Errors/${kind ?? 'Unknown'}`,
        }),
      );
    } else {
      res.writeHead(err.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ detail: err.detail }));
    }
    return err.status;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
      const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      let badJson = false;
      if (rawBody !== '') {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = rawBody;
          badJson = true;
        }
      }
      const method = req.method ?? 'GET';
      let segs: string[] = [];
      let badPath = false;
      try {
        segs = rawPath
          .split('/')
          .filter((s) => s !== '')
          .map((s) => decodeURIComponent(s));
      } catch {
        badPath = true;
      }
      const v =
        segs[0] === 'api' && (segs[1] === 'v1' || segs[1] === 'v2')
          ? segs[1]
          : segs[0] === 'auth'
            ? 'v2'
            : null;
      const record: RecordedRequest = {
        method,
        path: `/${segs.join('/')}`,
        rawPath,
        query: Object.fromEntries([...new Set(query.keys())].map((k) => [k, query.getAll(k)])),
        body,
        auth: authKind(req.headers.authorization),
        version: v,
        headers: { ...req.headers },
        status: 0,
      };
      requests.push(record);
      void (async () => {
        for (const hook of [...hooks]) await hook(record);
        const delay = takeRule(slow, method, record.path);
        if (delay) await new Promise((r) => setTimeout(r, delay.delayMs));
        const fault = takeRule(faults, method, record.path);
        if (fault && !fault.afterHandling) {
          record.fault = 'rejected';
          record.status = sendError(res, serverError(fault), v);
          return;
        }
        handle(req, res, record, { method, segs, query, body, badPath, badJson, v }, !fault);
        if (fault) {
          record.fault = 'response_lost';
          record.status = sendError(res, serverError(fault), v);
        }
      })().catch((err: unknown) => {
        record.status = sendError(res, new HttpError(500, String(err), 'Internal Server Error'), v);
      });
    });
  });

  /**
   * Carries the request out. With `respond` false (a fault answers instead) the change is made and
   * nothing is written to `res`.
   */
  function handle(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    parsed: {
      method: string;
      segs: string[];
      query: URLSearchParams;
      body: unknown;
      badPath: boolean;
      badJson: boolean;
      v: ApiVersion | null;
    },
    respond: boolean,
  ): void {
    const { method, segs, query, body, badPath, badJson, v } = parsed;
    const rule = failures.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.path === undefined ||
          (typeof f.path === 'string' ? record.path.includes(f.path) : f.path.test(record.path))),
    );
    if (rule && respond) {
      rule.left -= 1;
      res.writeHead(rule.status, { 'Content-Type': 'application/json', ...rule.headers });
      res.end(JSON.stringify(rule.body ?? { detail: 'injected failure' }));
      record.status = rule.status;
      return;
    }
    try {
      if (badPath) throw new HttpError(400, 'malformed percent-encoding in path', 'Bad Request');
      if (badJson) {
        throw v === 'v1'
          ? new HttpError(400, 'Request body is not valid JSON', 'Bad Request')
          : new HttpError(422, [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error' }]);
      }
      const out = route(method, segs, query, body, req);
      const status = out.status ?? 200;
      if (respond) {
        if (out.text !== undefined) {
          res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end(out.text);
        } else {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(out.body));
        }
        record.status = status;
      }
      out.after?.();
    } catch (err) {
      if (!respond) return;
      if (err instanceof HttpError) record.status = sendError(res, err, v);
      else {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ detail: String(err) }));
        record.status = 500;
      }
    }
  }

  function takeRule<T extends { method?: string; path?: string | RegExp }>(
    rules: Array<Live<T>>,
    method: string,
    path: string,
  ): Live<T> | undefined {
    const at = now();
    const rule = rules.find(
      (r) =>
        r.left > 0 &&
        at < r.until &&
        (r.method === undefined || r.method === method) &&
        (r.path === undefined || (typeof r.path === 'string' ? path.includes(r.path) : r.path.test(path))),
    );
    if (rule) {
      rule.left -= 1;
      rule.hits += 1;
    }
    return rule;
  }

  function serverError(rule: FaultRule): HttpError {
    const status = rule.status ?? 500;
    const title = SERVER_ERROR_TITLES[status] ?? 'Internal Server Error';
    return new HttpError(status, `${title} (injected by the test)`, title);
  }

  function live<T>(rule: T, times: number | undefined, forMs: number | undefined): Live<T> {
    return {
      ...rule,
      left: times ?? (forMs !== undefined ? Infinity : 1),
      until: forMs !== undefined ? now() + forMs : Infinity,
      hits: 0,
    };
  }

  function handleOf<T>(list: Array<Live<T>>, rule: Live<T>): InjectedRule {
    return {
      hits: () => rule.hits,
      remove() {
        const i = list.indexOf(rule);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const double: AirflowDouble = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    addDag(seed) {
      const tasks = new Map<string, TaskDef>();
      const order: string[] = [];
      let prev: string | undefined;
      for (const t of seed.tasks ?? []) {
        if (typeof t === 'string') {
          tasks.set(t, { upstream: prev ? [prev] : [] });
          prev = t;
          order.push(t);
        } else {
          tasks.set(t.taskId, { upstream: t.upstream ?? [] });
          order.push(t.taskId);
        }
      }
      dags.set(seed.dagId, {
        dagId: seed.dagId,
        isPaused: seed.isPaused ?? false,
        tasks,
        order,
        owners: seed.owners ?? ['data-platform'],
        tags: seed.tags ?? [],
        description: seed.description ?? null,
      });
    },
    addRun(seed) {
      const dag = dags.get(seed.dagId);
      if (!dag) throw new Error(`addRun: unknown DAG ${seed.dagId}`);
      const at = now();
      const run: Run = {
        id: ++runSeq,
        dagId: seed.dagId,
        runId: seed.runId,
        state: seed.state,
        logicalDate: seed.logicalDate === undefined ? iso(at) : seed.logicalDate,
        runType: seed.runType ?? (seed.runId.startsWith('manual__') ? 'manual' : 'scheduled'),
        conf: {},
        note: null,
        queuedAt: at,
        startDate: at,
        endDate: seed.state === 'success' || seed.state === 'failed' ? at : null,
        tis: new Map(),
      };
      for (const taskId of dag.order) {
        const state = seed.taskStates?.[taskId] ?? (seed.state === 'success' ? 'success' : null);
        const tries = seed.tryNumbers?.[taskId] ?? (state === null || state === 'upstream_failed' ? 0 : 1);
        const ti = newTi(taskId, state, tries);
        const seconds = seed.durations?.[taskId] ?? 0;
        if (state !== null && FINISHED.has(state) && state !== 'upstream_failed') {
          ti.startDate = at - seconds * 1000;
          ti.endDate = at;
        } else if (state === 'running') {
          ti.startDate = at - seconds * 1000;
        }
        run.tis.set(taskId, ti);
      }
      runs.set(runKey(seed.dagId, seed.runId), run);
    },
    scriptTask(dagId, taskId, script) {
      scripts.set(taskKey(dagId, taskId), script);
    },
    setLog(dagId, runId, taskId, tryNumber, text) {
      logs.set(logKey(dagId, runId, taskId, tryNumber), text);
    },
    addPool(seed) {
      pools.set(seed.name, {
        name: seed.name,
        slots: seed.slots,
        occupiedSlots: seed.occupiedSlots ?? 0,
        description: seed.description ?? null,
        includeDeferred: false,
      });
    },
    addDataset(seed) {
      datasets.push({
        id: datasets.length + 1,
        uri: seed.uri,
        name: seed.name ?? seed.uri,
        producers: seed.producers,
        consumers: seed.consumers,
      });
    },
    failNext(rule) {
      failures.push({ ...rule, left: rule.times ?? 1 });
    },
    injectFault(rule) {
      const added = live(rule, rule.times, rule.forMs);
      faults.push(added);
      return handleOf(faults, added);
    },
    slowDown(rule) {
      const added = live(rule, rule.times ?? Infinity, undefined);
      slow.push(added);
      return handleOf(slow, added);
    },
    onRequest(fn) {
      hooks.add(fn);
      return () => hooks.delete(fn);
    },
    expireTokens() {
      tokens.clear();
    },
    taskState(dagId, runId, taskId) {
      const ti = runs.get(runKey(dagId, runId))?.tis.get(taskId);
      if (!ti) throw new Error(`no task instance ${dagId}/${runId}/${taskId}`);
      return ti.state;
    },
    tryNumber(dagId, runId, taskId) {
      const ti = runs.get(runKey(dagId, runId))?.tis.get(taskId);
      if (!ti) throw new Error(`no task instance ${dagId}/${runId}/${taskId}`);
      return ti.tryNumber;
    },
    runState(dagId, runId) {
      const run = runs.get(runKey(dagId, runId));
      if (!run) throw new Error(`no run ${dagId}/${runId}`);
      return run.state;
    },
    isPaused(dagId) {
      const dag = dags.get(dagId);
      if (!dag) throw new Error(`no DAG ${dagId}`);
      return dag.isPaused;
    },
    poolSlots(name) {
      const pool = pools.get(name);
      if (!pool) throw new Error(`no pool ${name}`);
      return pool.slots;
    },
    executions(dagId, taskId) {
      return executionCounts.get(taskKey(dagId, taskId)) ?? 0;
    },
    requestsTo(method, path) {
      return requests.filter(
        (r) => r.method === method && (typeof path === 'string' ? r.path.includes(path) : path.test(r.path)),
      );
    },
  };
  return double;
}

/** The failed scheduled run seeded by {@link seedEtlExample}: its id contains `+` and `:`. */
export const ETL_FAILED_RUN = 'scheduled__2024-05-01T00:00:00+00:00';

/**
 * A small realistic estate: DAG `etl` (extract → transform → load) whose latest scheduled run failed in
 * `transform` (`load` upstream_failed), an older successful run, DAG `reporting` and `ml_features`
 * scheduled on datasets `etl.load` produces, an unrelated `audit` DAG, and pools.
 */
export function seedEtlExample(double: AirflowDouble): void {
  double.addDag({ dagId: 'etl', tasks: ['extract', 'transform', 'load'], tags: ['etl'] });
  double.addDag({ dagId: 'reporting', tasks: ['build_report'] });
  double.addDag({ dagId: 'ml_features', tasks: ['features'] });
  double.addDag({ dagId: 'audit', tasks: ['scan'] });
  double.addRun({
    dagId: 'etl',
    runId: 'scheduled__2024-04-30T00:00:00+00:00',
    state: 'success',
    logicalDate: '2024-04-30T00:00:00+00:00',
  });
  double.addRun({
    dagId: 'etl',
    runId: ETL_FAILED_RUN,
    state: 'failed',
    logicalDate: '2024-05-01T00:00:00+00:00',
    taskStates: { extract: 'success', transform: 'failed', load: 'upstream_failed' },
  });
  double.setLog(
    'etl',
    ETL_FAILED_RUN,
    'transform',
    1,
    [
      '[2024-05-01T00:05:00.000+0000] {taskinstance.py:2905} INFO - Starting attempt 1 of 3',
      '[2024-05-01T00:05:03.000+0000] {taskinstance.py:3310} ERROR - Task failed with exception',
      'psycopg2.OperationalError: connection to server at "warehouse" failed: too many connections',
    ].join('\n'),
  );
  double.addDataset({
    uri: 's3://warehouse/orders',
    producers: [{ dagId: 'etl', taskId: 'load' }],
    consumers: ['reporting', 'ml_features'],
  });
  double.addDataset({
    uri: 's3://warehouse/raw_orders',
    producers: [{ dagId: 'ingest', taskId: 'pull' }],
    consumers: ['etl'],
  });
  double.addDataset({
    uri: 's3://audit/log',
    producers: [{ dagId: 'audit', taskId: 'scan' }],
    consumers: ['reporting'],
  });
  double.addPool({ name: 'default_pool', slots: 128 });
  double.addPool({ name: 'warehouse', slots: 4, occupiedSlots: 4, description: 'warehouse connections' });
}

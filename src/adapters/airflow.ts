/**
 * Airflow REST client for Airflow 2 (`/api/v1`, HTTP Basic) and Airflow 3 (`/api/v2`, JWT from
 * `POST /auth/token`), with results normalised across versions. Thin: no retries (Temporal retries the
 * activity), every failure becomes a classified {@link UpstreamError}. See docs/airflow-and-prometheus.md.
 */
import type { z } from 'zod';
import { ErrorType } from '../domain/errors';
import {
  ClearResponseWire,
  DagRunCollectionWire,
  DagRunWire,
  DagWire,
  DatasetWire,
  LogWire,
  PoolWire,
  TaskInstanceCollectionWire,
  TaskInstanceWire,
  TokenWire,
  logContentToText,
  toClearedTasks,
  toDag,
  toDagRun,
  toDataset,
  toPool,
  toTaskInstance,
  type AirflowDag,
  type AirflowDagRun,
  type AirflowDataset,
  type AirflowPool,
  type AirflowTaskInstance,
  type ClearedTaskInstance,
} from './airflow-wire';
import { UpstreamError, fetchWithDeadline, readTextCapped, upstreamErrorFromStatus } from './upstream-error';

export type {
  AirflowDag,
  AirflowDagRun,
  AirflowDataset,
  AirflowPool,
  AirflowTaskInstance,
  ClearedTaskInstance,
} from './airflow-wire';

export type AirflowApiVersion = 'v1' | 'v2';

export interface AirflowClientOptions {
  /** Root of the Airflow webserver / API server, without `/api/v1` (e.g. `http://airflow:8080`). */
  baseUrl: string;
  username: string;
  password: string;
  /** `auto` probes `/api/v2/version`, then `/api/v2/monitor/health`, then `/api/v1/version`, once. */
  apiVersion: AirflowApiVersion | 'auto';
  fetch?: typeof fetch;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 8 MiB). */
  maxResponseBytes?: number;
  /** Clock for Retry-After dates (default `Date.now`). */
  now?: () => number;
}

/** Per-call options: pass the activity's cancellation signal so a cancelled step aborts its request. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListDagRunsQuery {
  /** One state or several (sent as a repeated `state` parameter). */
  state?: string | string[];
  limit?: number;
  offset?: number;
  /** Airflow `order_by`, `-` prefix = descending. `-id` (newest first) works on both versions. */
  orderBy?: string;
}

export interface ClearTaskInstancesRequest {
  dagRunId: string;
  taskIds: string[];
  /** Default true: only failed/upstream_failed instances are cleared. */
  onlyFailed?: boolean;
  /** Default false. */
  includeDownstream?: boolean;
  /** Required on purpose: Airflow's default is a dry run, and a silent preview must never pass for a retry. */
  dryRun: boolean;
}

export interface ClearTaskInstancesResult {
  dryRun: boolean;
  taskInstances: ClearedTaskInstance[];
}

export interface TriggerDagRunRequest {
  /** Deterministic id chosen by the caller, so a repeated trigger is detected (409) instead of duplicated. */
  dagRunId: string;
  conf?: Record<string, unknown>;
  note?: string;
}

export interface TriggerDagRunResult {
  /** True when a run with this id existed already (HTTP 409); `run` is then the existing run. */
  alreadyExists: boolean;
  run: AirflowDagRun;
}

export interface TaskLogOptions extends CallOptions {
  mapIndex?: number;
  /** Keep only the last `tailBytes` bytes of the log (default 64 KiB). */
  tailBytes?: number;
}

export interface AirflowTaskLog {
  content: string;
  /** True when the beginning of the log was cut off to respect `tailBytes`. */
  truncated: boolean;
  /** Size of the whole log as received, in bytes. */
  totalBytes: number;
}

export interface AirflowClient {
  /** The API version in use (detected and cached for `auto`). */
  apiVersion(opts?: CallOptions): Promise<AirflowApiVersion>;
  getDag(dagId: string, opts?: CallOptions): Promise<AirflowDag>;
  listDagRuns(
    dagId: string,
    query?: ListDagRunsQuery,
    opts?: CallOptions,
  ): Promise<{ dagRuns: AirflowDagRun[]; totalEntries: number }>;
  getDagRun(dagId: string, dagRunId: string, opts?: CallOptions): Promise<AirflowDagRun>;
  /** Newest run (highest id), optionally of one state; null when there is none. */
  latestDagRun(dagId: string, query?: { state?: string }, opts?: CallOptions): Promise<AirflowDagRun | null>;
  /** Every task instance of a run (pages through the collection). */
  listTaskInstances(dagId: string, dagRunId: string, opts?: CallOptions): Promise<AirflowTaskInstance[]>;
  getTaskInstance(
    dagId: string,
    dagRunId: string,
    taskId: string,
    mapIndex?: number,
    opts?: CallOptions,
  ): Promise<AirflowTaskInstance>;
  /**
   * `POST /dags/{dag}/clearTaskInstances`, always with an explicit `dry_run` and `reset_dag_runs: true`
   * (v1 defaults to false, which leaves the cleared task in a finished run the scheduler ignores).
   */
  clearTaskInstances(
    dagId: string,
    request: ClearTaskInstancesRequest,
    opts?: CallOptions,
  ): Promise<ClearTaskInstancesResult>;
  /** Triggers a run with the caller's id; 409 → `{ alreadyExists: true, run }` (the existing run). */
  triggerDagRun(
    dagId: string,
    request: TriggerDagRunRequest,
    opts?: CallOptions,
  ): Promise<TriggerDagRunResult>;
  /** `PATCH /dags/{dag}?update_mask=is_paused`; returns the DAG as the server reports it afterwards. */
  setPaused(dagId: string, paused: boolean, opts?: CallOptions): Promise<AirflowDag>;
  getPool(name: string, opts?: CallOptions): Promise<AirflowPool>;
  /** `PATCH /pools/{name}?update_mask=slots`. */
  setPoolSlots(name: string, slots: number, opts?: CallOptions): Promise<AirflowPool>;
  getTaskLog(
    dagId: string,
    dagRunId: string,
    taskId: string,
    tryNumber: number,
    opts?: TaskLogOptions,
  ): Promise<AirflowTaskLog>;
  /** Datasets (v1) / assets (v2) referencing any of `dagIds` (v1 comma-separated, v2 repeated `dag_ids`). */
  listDatasets(dagIds: string[], opts?: CallOptions): Promise<AirflowDataset[]>;
  /** DAGs scheduled on a dataset/asset that `dagId` produces (sorted, unique). */
  downstreamDags(dagId: string, opts?: CallOptions): Promise<string[]>;
}

const PAGE = 100;
const MAX_PAGES = 100;
const DEFAULT_TAIL_BYTES = 64 * 1024;
const ERROR_DETAIL_MAX = 300;

/** Encodes every interpolated value as one path segment (run ids contain `+` and `:`). */
function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce(
    (acc, s, i) => acc + s + (i < values.length ? encodeURIComponent(String(values[i])) : ''),
    '',
  );
}

interface Request {
  method: 'GET' | 'POST' | 'PATCH';
  /** Path below `/api/vN`, already encoded with {@link path}. */
  path: string;
  query?: Array<[string, string]>;
  body?: unknown;
  accept?: string;
  /** Non-2xx statuses the caller handles itself. */
  allow?: number[];
}

export function createAirflowClient(options: AirflowClientOptions): AirflowClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const basic = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;

  let version: Promise<AirflowApiVersion> | null =
    options.apiVersion === 'auto' ? null : Promise.resolve(options.apiVersion);
  let token: Promise<string> | null = null;

  function apiVersion(opts?: CallOptions): Promise<AirflowApiVersion> {
    if (!version) {
      const detecting = detectVersion(opts?.signal);
      version = detecting;
      // A failed probe (server down) is not cached: the next call probes again.
      detecting.catch(() => {
        if (version === detecting) version = null;
      });
    }
    return version;
  }

  async function detectVersion(signal: AbortSignal | undefined): Promise<AirflowApiVersion> {
    const probes: Array<[AirflowApiVersion, string]> = [
      ['v2', '/api/v2/version'],
      ['v2', '/api/v2/monitor/health'],
      ['v1', '/api/v1/version'],
    ];
    for (const [candidate, probePath] of probes) {
      const what = `GET ${probePath}`;
      const res = await fetchWithDeadline(
        fetchFn,
        'airflow',
        what,
        baseUrl + probePath,
        { method: 'GET', headers: { Accept: 'application/json' } },
        timeoutMs,
        signal,
      );
      await res.body?.cancel();
      // Version endpoints are public, but a proxy may demand auth: 401/403 still proves the API exists.
      if (res.ok || res.status === 401 || res.status === 403) return candidate;
      if (res.status !== 404 && res.status !== 405) {
        throw upstreamErrorFromStatus({
          service: 'airflow',
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          nowMs: now(),
          message: `airflow ${what}: ${res.status} while detecting the API version`,
        });
      }
    }
    throw new UpstreamError({
      service: 'airflow',
      type: ErrorType.NotFound,
      retryable: false,
      message: 'airflow: neither /api/v2 nor /api/v1 answers at the configured base URL',
    });
  }

  function fetchToken(signal: AbortSignal | undefined): Promise<string> {
    if (!token) {
      const fetching = (async () => {
        const what = 'POST /auth/token';
        const res = await fetchWithDeadline(
          fetchFn,
          'airflow',
          what,
          `${baseUrl}/auth/token`,
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify({ username: options.username, password: options.password }),
          },
          timeoutMs,
          signal,
        );
        const text = await readTextCapped(res, maxBytes, 'airflow', what);
        if (!res.ok) throw errorFor(res, what, text);
        return parse(TokenWire, parseJson(text, what), what).access_token;
      })();
      token = fetching;
      fetching.catch(() => {
        if (token === fetching) token = null;
      });
    }
    return token;
  }

  async function send(req: Request, opts: CallOptions | undefined): Promise<{ res: Response; text: string }> {
    const v = await apiVersion(opts);
    const apiPath = `/api/${v}${req.path}`;
    const what = `${req.method} ${apiPath}`;
    const search = new URLSearchParams(req.query ?? []).toString();
    const url = baseUrl + apiPath + (search ? `?${search}` : '');
    const headers: Record<string, string> = { Accept: req.accept ?? 'application/json' };
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);

    const attempt = async (authorization: string) =>
      fetchWithDeadline(
        fetchFn,
        'airflow',
        what,
        url,
        { method: req.method, headers: { ...headers, Authorization: authorization }, body },
        timeoutMs,
        opts?.signal,
      );

    let res: Response;
    if (v === 'v1') {
      res = await attempt(basic);
    } else {
      const current = fetchToken(opts?.signal);
      res = await attempt(`Bearer ${await current}`);
      if (res.status === 401) {
        // The JWT expired or was revoked: fetch a new one once and repeat the request.
        await res.body?.cancel();
        if (token === current) token = null;
        res = await attempt(`Bearer ${await fetchToken(opts?.signal)}`);
      }
    }
    const text = await readTextCapped(res, maxBytes, 'airflow', what);
    if (!res.ok && !(req.allow ?? []).includes(res.status)) throw errorFor(res, what, text);
    return { res, text };
  }

  async function json<S extends z.ZodType>(req: Request, schema: S, opts?: CallOptions): Promise<z.infer<S>> {
    const { text } = await send(req, opts);
    const what = `${req.method} ${req.path}`;
    return parse(schema, parseJson(text, what), what);
  }

  function errorFor(res: Response, what: string, text: string): UpstreamError {
    const detail = errorDetail(text);
    return upstreamErrorFromStatus({
      service: 'airflow',
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      nowMs: now(),
      message: `airflow ${what}: ${res.status}${detail ? ` ${detail}` : ''}`,
    });
  }

  const client: AirflowClient = {
    apiVersion,

    async getDag(dagId, opts) {
      return toDag(await json({ method: 'GET', path: path`/dags/${dagId}` }, DagWire, opts));
    },

    async listDagRuns(dagId, query = {}, opts) {
      const q: Array<[string, string]> = [];
      const states = query.state === undefined ? [] : [query.state].flat();
      for (const s of states) q.push(['state', s]);
      if (query.limit !== undefined) q.push(['limit', String(query.limit)]);
      if (query.offset !== undefined) q.push(['offset', String(query.offset)]);
      if (query.orderBy !== undefined) q.push(['order_by', query.orderBy]);
      const page = await json(
        { method: 'GET', path: path`/dags/${dagId}/dagRuns`, query: q },
        DagRunCollectionWire,
        opts,
      );
      return {
        dagRuns: page.dag_runs.map(toDagRun),
        totalEntries: page.total_entries ?? page.dag_runs.length,
      };
    },

    async getDagRun(dagId, dagRunId, opts) {
      return toDagRun(
        await json({ method: 'GET', path: path`/dags/${dagId}/dagRuns/${dagRunId}` }, DagRunWire, opts),
      );
    },

    async latestDagRun(dagId, query = {}, opts) {
      const { dagRuns } = await client.listDagRuns(
        dagId,
        { ...(query.state ? { state: query.state } : {}), limit: 1, orderBy: '-id' },
        opts,
      );
      return dagRuns[0] ?? null;
    },

    async listTaskInstances(dagId, dagRunId, opts) {
      const all: AirflowTaskInstance[] = [];
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await json(
          {
            method: 'GET',
            path: path`/dags/${dagId}/dagRuns/${dagRunId}/taskInstances`,
            query: [
              ['limit', String(PAGE)],
              ['offset', String(all.length)],
            ],
          },
          TaskInstanceCollectionWire,
          opts,
        );
        all.push(...body.task_instances.map(toTaskInstance));
        const total = body.total_entries ?? all.length;
        if (body.task_instances.length === 0 || all.length >= total) break;
      }
      return all;
    },

    async getTaskInstance(dagId, dagRunId, taskId, mapIndex, opts) {
      const p =
        mapIndex === undefined || mapIndex < 0
          ? path`/dags/${dagId}/dagRuns/${dagRunId}/taskInstances/${taskId}`
          : path`/dags/${dagId}/dagRuns/${dagRunId}/taskInstances/${taskId}/${mapIndex}`;
      return toTaskInstance(await json({ method: 'GET', path: p }, TaskInstanceWire, opts));
    },

    async clearTaskInstances(dagId, request, opts) {
      const body = {
        dag_run_id: request.dagRunId,
        task_ids: request.taskIds,
        only_failed: request.onlyFailed ?? true,
        include_downstream: request.includeDownstream ?? false,
        include_upstream: false,
        // v1 defaults to false (the task would sit in a finished run forever); v2 defaults to true.
        reset_dag_runs: true,
        // Both versions default to a dry run; always say which one we mean.
        dry_run: request.dryRun,
      };
      const res = await json(
        { method: 'POST', path: path`/dags/${dagId}/clearTaskInstances`, body },
        ClearResponseWire,
        opts,
      );
      return { dryRun: request.dryRun, taskInstances: toClearedTasks(res) };
    },

    async triggerDagRun(dagId, request, opts) {
      const v = await apiVersion(opts);
      const body: Record<string, unknown> = { dag_run_id: request.dagRunId };
      // v2: logical_date is required but nullable; null = a manual run "now". Extra fields → 422.
      if (v === 'v2') body.logical_date = null;
      if (request.conf !== undefined) body.conf = request.conf;
      if (request.note !== undefined) body.note = request.note;
      const req: Request = { method: 'POST', path: path`/dags/${dagId}/dagRuns`, body, allow: [409] };
      const { res, text } = await send(req, opts);
      const what = `POST ${req.path}`;
      if (res.status !== 409) {
        return { alreadyExists: false, run: toDagRun(parse(DagRunWire, parseJson(text, what), what)) };
      }
      try {
        return { alreadyExists: true, run: await client.getDagRun(dagId, request.dagRunId, opts) };
      } catch (err) {
        if (err instanceof UpstreamError && err.type === ErrorType.NotFound) {
          // The conflict was on something else (e.g. the logical date), not on our run id.
          throw new UpstreamError({
            service: 'airflow',
            type: ErrorType.Rejected,
            retryable: false,
            status: 409,
            message: `airflow ${what}: 409 ${errorDetail(text)} (no run with id ${request.dagRunId})`,
          });
        }
        throw err;
      }
    },

    async setPaused(dagId, paused, opts) {
      return toDag(
        await json(
          {
            method: 'PATCH',
            path: path`/dags/${dagId}`,
            query: [['update_mask', 'is_paused']],
            body: { is_paused: paused },
          },
          DagWire,
          opts,
        ),
      );
    },

    async getPool(name, opts) {
      return toPool(await json({ method: 'GET', path: path`/pools/${name}` }, PoolWire, opts));
    },

    async setPoolSlots(name, slots, opts) {
      const v = await apiVersion(opts);
      // v1 validates the patched pool as a whole (name included); v2's PoolPatchBody is strict and
      // only needs the masked field.
      const body = v === 'v1' ? { name, slots } : { slots };
      return toPool(
        await json(
          { method: 'PATCH', path: path`/pools/${name}`, query: [['update_mask', 'slots']], body },
          PoolWire,
          opts,
        ),
      );
    },

    async getTaskLog(dagId, dagRunId, taskId, tryNumber, opts = {}) {
      const v = await apiVersion(opts);
      const query: Array<[string, string]> = [['full_content', 'true']];
      if (opts.mapIndex !== undefined && opts.mapIndex >= 0) query.push(['map_index', String(opts.mapIndex)]);
      const req: Request = {
        method: 'GET',
        path: path`/dags/${dagId}/dagRuns/${dagRunId}/taskInstances/${taskId}/logs/${tryNumber}`,
        query,
        // v1 serves plain text when asked; v2 always answers JSON `{content: [...]}` for non-ndjson requests.
        accept: v === 'v1' ? 'text/plain' : 'application/json',
      };
      const { res, text } = await send(req, opts);
      const isJson = (res.headers.get('content-type') ?? '').includes('json');
      const what = `GET ${req.path}`;
      const content = isJson ? logContentToText(parse(LogWire, parseJson(text, what), what).content) : text;
      return tail(content, opts.tailBytes ?? DEFAULT_TAIL_BYTES);
    },

    async listDatasets(dagIds, opts) {
      const v = await apiVersion(opts);
      const all: AirflowDataset[] = [];
      for (let page = 0; page < MAX_PAGES; page++) {
        // v1 (2.9+) takes one comma-separated string; v2 a repeated parameter.
        const filter: Array<[string, string]> =
          v === 'v1' ? [['dag_ids', dagIds.join(',')]] : dagIds.map((d) => ['dag_ids', d]);
        const req: Request = {
          method: 'GET',
          path: v === 'v1' ? '/datasets' : '/assets',
          query: [...filter, ['limit', String(PAGE)], ['offset', String(all.length)]],
        };
        const { text } = await send(req, opts);
        const what = `GET ${req.path}`;
        const raw = parseJson(text, what) as Record<string, unknown>;
        const items = parse(DatasetWire.array(), raw[v === 'v1' ? 'datasets' : 'assets'], what);
        all.push(...items.map(toDataset));
        const total = typeof raw.total_entries === 'number' ? raw.total_entries : all.length;
        if (items.length === 0 || all.length >= total) break;
      }
      return all;
    },

    async downstreamDags(dagId, opts) {
      const datasets = await client.listDatasets([dagId], opts);
      const consumers = new Set<string>();
      for (const d of datasets) {
        if (!d.producingTasks.some((t) => t.dagId === dagId)) continue;
        for (const c of d.consumingDagIds) consumers.add(c);
      }
      return [...consumers].sort();
    },
  };
  return client;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamError({
      service: 'airflow',
      type: ErrorType.Rejected,
      retryable: false,
      message: `airflow ${what}: response is not JSON`,
    });
  }
}

function parse<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
  throw new UpstreamError({
    service: 'airflow',
    type: ErrorType.Rejected,
    retryable: false,
    message: `airflow ${what}: unexpected response (${where})`,
  });
}

/**
 * The human part of an error body: RFC 7807 `detail`/`title` (v1), FastAPI `detail` string or
 * validation list (v2). Echoed request input is never included.
 */
export function errorDetail(text: string): string {
  let out = '';
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object') {
      const { detail, title } = body as { detail?: unknown; title?: unknown };
      if (typeof detail === 'string') out = detail;
      else if (Array.isArray(detail)) {
        out = detail
          .map((d: { loc?: unknown; msg?: unknown }) =>
            [Array.isArray(d.loc) ? d.loc.join('.') : '', typeof d.msg === 'string' ? d.msg : '']
              .filter(Boolean)
              .join(': '),
          )
          .join('; ');
      } else if (detail && typeof detail === 'object') {
        const reason = (detail as { reason?: unknown }).reason;
        out = typeof reason === 'string' ? reason : '';
      }
      if (!out && typeof title === 'string') out = title;
    }
  } catch {
    out = '';
  }
  return out.length > ERROR_DETAIL_MAX ? `${out.slice(0, ERROR_DETAIL_MAX)}…` : out;
}

/** The last `maxBytes` bytes of `text`, starting at a line boundary when cut. */
export function tail(text: string, maxBytes: number): AirflowTaskLog {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { content: text, truncated: false, totalBytes: bytes.length };
  let cut = bytes.subarray(bytes.length - maxBytes).toString('utf8');
  // The cut may split a character (a replacement char) or a line: start at the next full line.
  const nl = cut.indexOf('\n');
  if (nl >= 0 && nl < cut.length - 1) cut = cut.slice(nl + 1);
  else cut = cut.replace(/^\uFFFD+/, '');
  return { content: cut, truncated: true, totalBytes: bytes.length };
}

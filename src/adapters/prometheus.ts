/**
 * Prometheus HTTP API client: instant queries only (`GET /api/v1/query`), for check steps and diagnosis.
 * Errors become a classified {@link UpstreamError}: a bad expression is final, an overloaded or
 * unreachable server is retryable.
 */
import { z } from 'zod';
import { ErrorType } from '../domain/errors';
import { UpstreamError, fetchWithDeadline, readTextCapped, upstreamErrorFromStatus } from './upstream-error';

export interface PrometheusClientOptions {
  /** Server root, e.g. `http://prometheus:9090` (a path prefix such as `/prom` is kept). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  maxResponseBytes?: number;
  now?: () => number;
}

export type PromResultType = 'vector' | 'scalar' | 'matrix' | 'string';

/** One series value: `[unix seconds, value as string]`, as Prometheus sends it. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromQueryResult {
  resultType: PromResultType;
  /** Vector: one sample per series. Scalar/string: one sample with no labels. Matrix: each series' last value. */
  result: PromSample[];
}

export interface PrometheusClient {
  /** Instant query at `atMs` (default: the server's now). */
  query(expr: string, atMs?: number, opts?: { signal?: AbortSignal }): Promise<PromQueryResult>;
  /** True when the expression returns a non-empty instant vector (a scalar never "holds"). */
  holds(expr: string, opts?: { signal?: AbortSignal }): Promise<boolean>;
}

const Value = z.tuple([z.number(), z.string()]);
const QueryResponse = z.looseObject({
  status: z.string(),
  data: z
    .looseObject({
      resultType: z.enum(['vector', 'scalar', 'matrix', 'string']),
      result: z.unknown(),
    })
    .optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
});
const VectorResult = z.array(z.looseObject({ metric: z.record(z.string(), z.string()), value: Value }));
const MatrixResult = z.array(
  z.looseObject({ metric: z.record(z.string(), z.string()), values: z.array(Value) }),
);

/** Prometheus `errorType`s that a retry cannot fix: the expression itself is wrong. */
const FINAL_ERROR_TYPES = new Set(['bad_data', 'execution', 'not_found', 'not_acceptable']);
/** Server-side trouble: try again later. */
const RETRYABLE_ERROR_TYPES = new Set(['timeout', 'canceled', 'internal', 'unavailable']);

export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const what = 'GET /api/v1/query';

  const client: PrometheusClient = {
    async query(expr, atMs, opts) {
      const params = new URLSearchParams({ query: expr });
      if (atMs !== undefined) params.set('time', (atMs / 1000).toFixed(3));
      const res = await fetchWithDeadline(
        fetchFn,
        'prometheus',
        what,
        `${baseUrl}/api/v1/query?${params.toString()}`,
        { method: 'GET', headers: { Accept: 'application/json' } },
        timeoutMs,
        opts?.signal,
      );
      const text = await readTextCapped(res, maxBytes, 'prometheus', what);
      let body: z.infer<typeof QueryResponse> | undefined;
      try {
        const parsed = QueryResponse.safeParse(JSON.parse(text));
        body = parsed.success ? parsed.data : undefined;
      } catch {
        body = undefined;
      }
      if (body?.status === 'error' || !res.ok) throw queryError(res, body);
      if (!body?.data) throw unexpected('no data in a success response');
      return normalise(body.data.resultType, body.data.result);
    },

    async holds(expr, opts) {
      const r = await client.query(expr, undefined, opts);
      return r.resultType === 'vector' && r.result.length > 0;
    },
  };

  function queryError(res: Response, body: z.infer<typeof QueryResponse> | undefined): UpstreamError {
    const errorType = body?.errorType;
    const detail = body?.error ? `: ${body.error.slice(0, 300)}` : '';
    const message = `prometheus ${what}: ${res.status} ${errorType ?? 'error'}${detail}`;
    if (errorType && FINAL_ERROR_TYPES.has(errorType)) {
      return new UpstreamError({
        service: 'prometheus',
        type: ErrorType.Rejected,
        retryable: false,
        status: res.status,
        message,
      });
    }
    if (errorType && RETRYABLE_ERROR_TYPES.has(errorType)) {
      return new UpstreamError({
        service: 'prometheus',
        type: ErrorType.Unavailable,
        retryable: true,
        status: res.status,
        message,
      });
    }
    return upstreamErrorFromStatus({
      service: 'prometheus',
      status: res.ok ? 500 : res.status,
      retryAfter: res.headers.get('retry-after'),
      nowMs: now(),
      message,
    });
  }

  return client;
}

function normalise(resultType: PromResultType, raw: unknown): PromQueryResult {
  switch (resultType) {
    case 'vector': {
      const parsed = VectorResult.safeParse(raw);
      if (!parsed.success) throw unexpected('malformed vector');
      return { resultType, result: parsed.data.map((s) => ({ metric: s.metric, value: s.value })) };
    }
    case 'matrix': {
      const parsed = MatrixResult.safeParse(raw);
      if (!parsed.success) throw unexpected('malformed matrix');
      const result: PromSample[] = [];
      for (const s of parsed.data) {
        const last = s.values[s.values.length - 1];
        if (last) result.push({ metric: s.metric, value: last });
      }
      return { resultType, result };
    }
    case 'scalar':
    case 'string': {
      const parsed = Value.safeParse(raw);
      if (!parsed.success) throw unexpected(`malformed ${resultType}`);
      return { resultType, result: [{ metric: {}, value: parsed.data }] };
    }
  }
}

function unexpected(why: string): UpstreamError {
  return new UpstreamError({
    service: 'prometheus',
    type: ErrorType.Rejected,
    retryable: false,
    message: `prometheus GET /api/v1/query: unexpected response (${why})`,
  });
}

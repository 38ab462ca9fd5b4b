import { classifyHttpStatus, ErrorType } from '../domain/errors';

/** Which remote service failed; part of every message so an operator knows where to look. */
export type UpstreamService = 'airflow' | 'prometheus';

/**
 * A classified failure of a remote HTTP API (Airflow, Prometheus). Adapters throw it; activities turn it
 * into an `ApplicationFailure` of the same `type` (see `src/activities/upstream-failure.ts`). The message
 * names the method and path only: never the base URL (it may embed credentials), a password or a token.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly service: UpstreamService;
  readonly type: ErrorType;
  /** True when trying again later can succeed (5xx, network, timeout, 429). */
  readonly retryable: boolean;
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined;
  /** Server-requested wait before retrying (429 Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(args: {
    service: UpstreamService;
    type: ErrorType;
    retryable: boolean;
    message: string;
    status?: number;
    retryAfterMs?: number;
  }) {
    super(args.message);
    this.service = args.service;
    this.type = args.type;
    this.retryable = args.retryable;
    this.status = args.status;
    this.retryAfterMs = args.retryAfterMs;
  }
}

export function isUpstreamError(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError;
}

/** Builds the error for a non-2xx response using the shared HTTP classification. */
export function upstreamErrorFromStatus(args: {
  service: UpstreamService;
  status: number;
  retryAfter: string | null;
  nowMs: number;
  message: string;
}): UpstreamError {
  const cls = classifyHttpStatus(args.status, args.retryAfter, args.nowMs);
  switch (cls.kind) {
    case 'rate_limited':
      return new UpstreamError({
        service: args.service,
        type: ErrorType.RateLimited,
        retryable: true,
        message: args.message,
        status: args.status,
        retryAfterMs: cls.retryAfterMs,
      });
    case 'retryable':
      return new UpstreamError({
        service: args.service,
        type: ErrorType.Unavailable,
        retryable: true,
        message: args.message,
        status: args.status,
      });
    case 'final':
      return new UpstreamError({
        service: args.service,
        type: cls.type,
        retryable: false,
        message: args.message,
        status: args.status,
      });
  }
}

/**
 * Error for a request that produced no response: timeout or network failure are retryable; an abort
 * requested by the caller (activity cancellation) is re-thrown unchanged by {@link fetchWithDeadline}.
 */
export function upstreamNetworkError(service: UpstreamService, what: string, cause: unknown): UpstreamError {
  const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
  const reason = timedOut ? 'timed out' : `network error (${errorCode(cause)})`;
  return new UpstreamError({
    service,
    type: ErrorType.Unavailable,
    retryable: true,
    message: `${service} ${what}: ${reason}`,
  });
}

function errorCode(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: { code?: unknown } }).cause;
    if (inner && typeof inner.code === 'string') return inner.code;
    return cause.name;
  }
  return 'unknown';
}

/**
 * `fetch` with a per-request timeout that also honours the caller's abort signal. A caller abort
 * re-throws the signal's reason (Temporal's cancellation failure); a timeout or network failure becomes
 * a retryable {@link UpstreamError}.
 */
export async function fetchWithDeadline(
  fetchFn: typeof fetch,
  service: UpstreamService,
  what: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    return await fetchFn(url, { ...init, signal: combined });
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    throw upstreamNetworkError(service, what, timeout.aborted ? timeoutError() : err);
  }
}

/** Reads a response body as text, failing when it exceeds `maxBytes` (a misbehaving server). */
export async function readTextCapped(
  response: Response,
  maxBytes: number,
  service: UpstreamService,
  what: string,
): Promise<string> {
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new UpstreamError({
        service,
        type: ErrorType.Rejected,
        retryable: false,
        message: `${service} ${what}: response larger than ${maxBytes} bytes`,
        status: response.status,
      });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function timeoutError(): Error {
  const err = new Error('timeout');
  err.name = 'TimeoutError';
  return err;
}

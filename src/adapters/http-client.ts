import { classifyHttpStatus, type HttpFailureClass } from '../domain/errors';

/**
 * A failed outbound HTTP call, classified for retry decisions. The message names the provider and the
 * operation, never the URL (URLs may carry account ids or webhook secrets) and never a credential.
 */
export class HttpFailure extends Error {
  override readonly name: string = 'HttpFailure';
  /** How to handle it: wait for Retry-After, retry with backoff, or give up. */
  readonly class: HttpFailureClass;
  /** HTTP status, when a response arrived. */
  readonly status?: number;
  /** Who answered: `twilio`, `pagerduty`, `slack`, `webhook`. */
  readonly provider: string;
  /** The provider's own error code (`21211`, `channel_not_found`), when it sent one. */
  readonly code?: string;

  constructor(init: {
    class: HttpFailureClass;
    provider: string;
    message: string;
    status?: number;
    code?: string;
  }) {
    super(init.message);
    this.class = init.class;
    this.provider = init.provider;
    if (init.status !== undefined) this.status = init.status;
    if (init.code !== undefined) this.code = init.code;
  }
}

/** True for an {@link HttpFailure} (by shape as well, so it survives module duplication in tests). */
export function isHttpFailure(err: unknown): err is HttpFailure {
  return (
    err instanceof HttpFailure ||
    (err instanceof Error && err.name === 'HttpFailure' && 'class' in err && 'provider' in err)
  );
}

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Short label used in error messages instead of the URL, e.g. `Messages.create`. */
  operation: string;
  headers?: Record<string, string>;
  /** JSON body (sets `Content-Type: application/json`). */
  json?: unknown;
  /** Form body (sets `Content-Type: application/x-www-form-urlencoded`); undefined values are left out. */
  form?: Record<string, string | undefined>;
  /** Raw body; the caller sets the content type. */
  body?: string;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** Aborts the call (e.g. activity cancellation); the abort reason is rethrown as is. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The raw response text. */
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Extracts the provider's message and code from an error response. */
export type DescribeError = (res: HttpResponse) => { detail?: string; code?: string };

export interface HttpClientOptions {
  /** Provider name for failures. */
  provider: string;
  /** Default per-call timeout (ms). */
  timeoutMs?: number;
  /** Builds a failure's detail from an error response (e.g. Twilio's `{code, message}`). */
  describeError?: DescribeError;
  /** Strings that must never appear in a failure message (tokens, account ids). */
  redact?: readonly string[];
  fetch?: typeof fetch;
  now?: () => number;
}

export interface HttpClient {
  /** Sends a request; resolves on 2xx, throws {@link HttpFailure} on any other status or a network error. */
  send(req: HttpRequest): Promise<HttpResponse>;
}

/** A small fetch wrapper with a timeout, JSON/form bodies and failure classification. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { provider } = options;
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const redact = (text: string): string => redactSecrets(text, options.redact ?? []);

  return {
    async send(req) {
      const method = req.method ?? 'POST';
      const headers: Record<string, string> = { ...req.headers };
      let body: string | undefined = req.body;
      if (req.json !== undefined) {
        body = JSON.stringify(req.json);
        headers['content-type'] = 'application/json';
      } else if (req.form !== undefined) {
        body = formEncode(req.form);
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
      const timeoutMs = req.timeoutMs ?? options.timeoutMs ?? 10_000;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;

      let response: Response;
      let text: string;
      try {
        response = await fetchFn(req.url, { method, headers, body, signal, redirect: 'error' });
        text = await response.text();
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        const reason = timeout.aborted ? `timed out after ${timeoutMs} ms` : networkReason(err);
        throw new HttpFailure({
          class: { kind: 'retryable', reason: 'network' },
          provider,
          message: `${provider} ${req.operation}: ${reason}`,
        });
      }

      const res: HttpResponse = {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: text,
        json: parseJson(text),
      };
      if (res.status >= 200 && res.status < 300) return res;

      const cls = classifyHttpStatus(res.status, res.headers['retry-after'], now());
      const described = options.describeError?.(res) ?? {};
      const detail = described.detail ? `: ${redact(described.detail)}` : '';
      throw new HttpFailure({
        class: cls,
        provider,
        status: res.status,
        message: `${provider} ${req.operation}: HTTP ${res.status}${detail}`,
        ...(described.code !== undefined ? { code: described.code } : {}),
      });
    },
  };
}

/** `application/x-www-form-urlencoded` body; undefined values are left out. */
export function formEncode(fields: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) params.append(key, value);
  return params.toString();
}

/** Replaces every occurrence of each secret (non-empty) with `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A network error reduced to its error code (`ECONNREFUSED`); undici messages can carry host names. */
function networkReason(err: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (jest), where `instanceof Error` is false.
  const cause = (err as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : cause?.errors?.find((e) => e.code)?.code;
  return typeof code === 'string' ? `network error (${code})` : 'network error';
}

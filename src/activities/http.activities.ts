import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { classifyHttpStatus, ErrorType } from '../domain/errors';
import type { Clock } from './clock';

export interface HttpRequestInput {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Environment variable holding the base URL (URLs may embed credentials: never in YAML or history). */
  urlEnv: string;
  path?: string;
  /** Header name → environment variable holding its value. */
  headersEnv?: Record<string, string>;
  body?: unknown;
  /** Statuses that count as success (default any 2xx). */
  expectStatus?: number[];
  /** Sent as `Idempotency-Key` so the receiving system can drop a retried request. */
  idempotencyKey: string;
}

export interface HttpActivityDeps {
  env: (name: string) => string | undefined;
  clock: Clock;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

function signal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/**
 * The `http.request` runbook action (e.g. DataStage job APIs): URL and header values come from the
 * environment by name. Unexpected 4xx are final, 429 waits for Retry-After, 5xx and network errors retry.
 * Messages never contain the URL or header values.
 */
export function createHttpActivities(deps: HttpActivityDeps) {
  const doFetch = deps.fetch ?? fetch;
  return {
    async httpRequest(input: HttpRequestInput): Promise<{ status: number }> {
      const base = deps.env(input.urlEnv);
      if (!base) {
        throw ApplicationFailure.create({
          type: ErrorType.NotConfigured,
          message: `${input.urlEnv} is not set`,
          nonRetryable: true,
        });
      }
      const headers: Record<string, string> = { 'idempotency-key': input.idempotencyKey };
      for (const [name, envName] of Object.entries(input.headersEnv ?? {})) {
        const value = deps.env(envName);
        if (value === undefined) {
          throw ApplicationFailure.create({
            type: ErrorType.NotConfigured,
            message: `${envName} (header ${name}) is not set`,
            nonRetryable: true,
          });
        }
        headers[name] = value;
      }
      let body: string | undefined;
      if (input.body !== undefined) {
        body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
        if (typeof input.body !== 'string') headers['content-type'] = 'application/json';
      }
      const what = `${input.method} ${input.urlEnv}${input.path ?? ''}`;
      const timeout = AbortSignal.timeout(deps.timeoutMs ?? 30_000);
      const outer = signal();
      let res: Response;
      try {
        res = await doFetch(`${base.replace(/\/$/, '')}${input.path ?? ''}`, {
          method: input.method,
          headers,
          ...(body !== undefined ? { body } : {}),
          signal: outer ? AbortSignal.any([outer, timeout]) : timeout,
        });
      } catch {
        throw ApplicationFailure.create({
          type: ErrorType.Unavailable,
          message: `${what}: request failed (network or timeout)`,
        });
      }
      await res.arrayBuffer().catch(() => undefined);
      const ok = input.expectStatus
        ? input.expectStatus.includes(res.status)
        : res.status >= 200 && res.status < 300;
      if (ok) return { status: res.status };
      const cls = classifyHttpStatus(res.status, res.headers.get('retry-after'), deps.clock.now());
      if (cls.kind === 'rate_limited') {
        throw ApplicationFailure.create({
          type: ErrorType.RateLimited,
          message: `${what}: 429`,
          nextRetryDelay: cls.retryAfterMs,
        });
      }
      if (cls.kind === 'retryable')
        throw ApplicationFailure.create({ type: ErrorType.Unavailable, message: `${what}: ${res.status}` });
      if (res.status >= 200 && res.status < 400) {
        throw ApplicationFailure.create({
          type: ErrorType.Rejected,
          message: `${what}: unexpected status ${res.status}`,
          nonRetryable: true,
        });
      }
      throw ApplicationFailure.create({
        type: cls.type,
        message: `${what}: ${res.status}`,
        nonRetryable: true,
      });
    },
  };
}

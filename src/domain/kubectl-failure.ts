import { ErrorType } from './errors';

/** A failed kubectl run, classified from its stderr. */
export interface KubectlFailure {
  type: ErrorType;
  /** The `error: …` / `Error from server (…): …` line, secrets redacted. */
  message: string;
}

/** klog lines (`E1125 12:03:44.489308 8187 memcache.go:265] …`) that kubectl prints before its error. */
const KLOG_LINE = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s/;
const ERROR_LINE = /^(error:|Error from server|Unable to connect to the server|The connection to the server)/;

const RULES: ReadonlyArray<{ type: ErrorType; pattern: RegExp }> = [
  { type: ErrorType.TimedOut, pattern: /timed out waiting/i },
  {
    type: ErrorType.NotAllowed,
    pattern: /\(Forbidden\)|forbidden|\(Unauthorized\)|unauthorized|must be logged in/i,
  },
  // The configured context or kubeconfig is wrong: no retry fixes that.
  {
    type: ErrorType.NotConfigured,
    pattern:
      /context was not found|context "[^"]*" does not exist|no context exists|invalid configuration|no configuration has been provided/i,
  },
  // Transport failures and server-side transient errors: retry.
  {
    type: ErrorType.Unavailable,
    pattern:
      /Unable to connect to the server|The connection to the server .* was refused|connection refused|connection reset|i\/o timeout|Client\.Timeout|context deadline exceeded|TLS handshake timeout|\((InternalError|ServiceUnavailable|Timeout|TooManyRequests|Conflict)\)|unexpected EOF/i,
  },
  {
    type: ErrorType.NotFound,
    pattern: /not found|unable to find specified revision|no rollout history found/i,
  },
];

function redact(line: string): string {
  return line.replace(/:\/\/[^/\s:@]+:[^/\s@]+@/g, '://***@').replace(/(bearer\s+)\S+/gi, '$1***');
}

/** The line of kubectl's stderr that states the error. */
export function kubectlErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const meaningful = lines.filter((l) => !KLOG_LINE.test(l));
  const line = meaningful.find((l) => ERROR_LINE.test(l)) ?? meaningful.at(-1) ?? lines.at(-1) ?? '';
  const clean = redact(line);
  return clean.length > 500 ? `${clean.slice(0, 497)}...` : clean;
}

/**
 * Classifies a failed kubectl run (kubectl exits 1 on any error) by its error line: `TimedOut` for "timed
 * out waiting", `NotAllowed` for forbidden/unauthorized, `NotConfigured` for a missing context or bad
 * kubeconfig, `Unavailable` (retryable) when the API server could not be reached or failed transiently,
 * `NotFound` for "not found", else `OperationFailed` (e.g. a paused deployment, an exceeded progress
 * deadline).
 */
export function classifyKubectlFailure(stderr: string): KubectlFailure {
  const message = kubectlErrorLine(stderr) || 'kubectl failed without an error message';
  const rule = RULES.find((r) => r.pattern.test(message));
  return { type: rule?.type ?? ErrorType.OperationFailed, message };
}

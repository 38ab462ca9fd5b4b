import type { Cause } from './causes';

/**
 * Version of {@link LOG_SIGNATURES}. Bump it whenever a signature is added, removed or changed: stored
 * diagnoses record the version they were made with, so an old hypothesis can be read against the table
 * that produced it.
 */
export const LOG_SIGNATURES_VERSION = 1;

/** A known failure pattern in task logs. */
export interface LogSignature {
  /** Stable id (kept across versions while the meaning is the same). */
  id: string;
  cause: Cause;
  /** Any of these matching a log line counts as a hit (case-insensitive). */
  patterns: readonly RegExp[];
  /** Runbook to suggest; defaults to the cause's runbook. */
  suggestedRunbook?: string;
  /** Strength (0..1) of one hit: how strongly a match alone points at the cause. */
  weight: number;
}

/** The signature table, in no particular order (ranking does not depend on it). */
export const LOG_SIGNATURES: readonly LogSignature[] = [
  {
    id: 'sqlalchemy_queuepool_limit',
    cause: 'connection_pool_exhaustion',
    patterns: [/QueuePool limit of size \d+ overflow \d+ reached/i],
    weight: 0.85,
  },
  {
    id: 'postgres_too_many_connections',
    cause: 'connection_pool_exhaustion',
    patterns: [
      /remaining connection slots are reserved/i,
      /too many connections/i,
      /sorry, too many clients already/i,
      /connection pool (is )?(exhausted|full)/i,
    ],
    weight: 0.8,
  },
  {
    id: 'out_of_memory',
    cause: 'out_of_memory',
    patterns: [
      /\bMemoryError\b/,
      /\bOOMKilled\b/i,
      /Killed process \d+/i,
      /out of memory/i,
      /Cannot allocate memory/i,
      /java\.lang\.OutOfMemoryError/,
    ],
    weight: 0.8,
  },
  {
    id: 'timeout',
    cause: 'timeout',
    patterns: [
      /AirflowTaskTimeout/,
      /\bTimeoutError\b/,
      /timed out after \d+/i,
      /statement timeout/i,
      /canceling statement due to statement timeout/i,
      /Read timed out/i,
      /deadline exceeded/i,
    ],
    weight: 0.6,
  },
  {
    id: 'permission_denied',
    cause: 'permission_denied',
    patterns: [
      /permission denied/i,
      /AccessDenied/,
      /\b403 Forbidden\b/i,
      /insufficient privilege/i,
      /not authorized to perform/i,
    ],
    weight: 0.75,
  },
  {
    id: 'schema_mismatch',
    cause: 'schema_mismatch',
    patterns: [
      /column "?[\w.]+"? (of relation "?[\w.]+"? )?does not exist/i,
      /\bUndefinedColumn\b/,
      /\bUndefinedTable\b/,
      /relation "?[\w.]+"? does not exist/i,
      /invalid input syntax for type/i,
      /KeyError: '[\w.]+'/,
    ],
    weight: 0.75,
  },
  {
    id: 'disk_full',
    cause: 'disk_full',
    patterns: [/No space left on device/i, /\bENOSPC\b/, /disk quota exceeded/i],
    weight: 0.9,
  },
  {
    id: 'upstream_data_missing',
    cause: 'upstream_data_missing',
    patterns: [
      /No such file or directory/i,
      /\bNoSuchKey\b/,
      /\bFileNotFoundError\b/,
      /sensor (has )?timed out/i,
      /AirflowSensorTimeout/,
      /\b0 rows (were )?(loaded|extracted)\b/i,
    ],
    weight: 0.65,
  },
  {
    id: 'transient_network',
    cause: 'transient_failure',
    patterns: [
      /Connection reset by peer/i,
      /could not connect to server/i,
      /Connection refused/i,
      /temporarily unavailable/i,
      /\b503 Service Unavailable\b/i,
      /server closed the connection unexpectedly/i,
      /\bECONNRESET\b/,
    ],
    weight: 0.55,
  },
];

/** One signature that matched a log. */
export interface SignatureHit {
  signature: LogSignature;
  /** Number of log lines that matched any of its patterns. */
  lines: number;
  /** The first matching line, trimmed to 200 characters. */
  sample: string;
}

/** Longest log tail scanned: recent lines carry the failure. */
export const MAX_LOG_CHARS = 500_000;

/**
 * Matches a log against the signature table. Each line counts for one signature only: the strongest
 * that matches it (ties by id), so a QueuePool line that also says "TimeoutError" is pool exhaustion,
 * not a timeout. Hits are sorted by signature id (deterministic).
 */
export function matchSignatures(
  logText: string,
  signatures: readonly LogSignature[] = LOG_SIGNATURES,
): SignatureHit[] {
  const text = logText.length > MAX_LOG_CHARS ? logText.slice(-MAX_LOG_CHARS) : logText;
  const ranked = [...signatures].sort((a, b) => b.weight - a.weight || a.id.localeCompare(b.id));
  const hits = new Map<string, SignatureHit>();
  for (const line of text.split(/\r?\n/)) {
    const signature = ranked.find((s) => s.patterns.some((p) => p.test(line)));
    if (!signature) continue;
    const hit = hits.get(signature.id);
    if (hit) hit.lines += 1;
    else hits.set(signature.id, { signature, lines: 1, sample: line.trim().slice(0, 200) });
  }
  return [...hits.values()].sort((a, b) => a.signature.id.localeCompare(b.signature.id));
}

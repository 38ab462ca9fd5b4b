/**
 * The page log on SQL (table `page_log`, migration 004_page_log.sql), for PostgreSQL and PGlite alike.
 * Claim before sending, complete after: see {@link PageLogRepository}.
 */
import { randomUUID } from 'node:crypto';
import type { SqlQueryable } from './check-result-store';

/**
 * What identifies one page (`recipient` = '') or one recipient's send inside it. Unique together, except
 * `pageKey`, which is carried along for people reading the table.
 */
export interface PageLogKey {
  incidentId: string;
  level: number;
  /** `role:primary`, `person:alice`, … */
  target: string;
  channel: string;
  /** Which deliberate page of this level and target it is: retries share it, a repeat round does not. */
  attemptWindow: string;
  /** '' for the whole page; e.g. `sms:alice` for one recipient. */
  recipient: string;
  pageKey: string;
}

/** Who claims: an activity execution and its attempt (a later attempt of the same execution may take over). */
export interface PageLogHolder {
  execution: string;
  attempt: number;
}

/** The answer to a claim. */
export type PageClaim<E> =
  /** Done before: the recorded outcome; send nothing. */
  | { state: 'completed'; entry: E }
  /**
   * The caller holds the key now and must `complete` it, or `release` it with `token`. `claimedAt` is the
   * first claim's time (ms); `resumed` is true when an earlier holder may have sent already, so the
   * provider has to be asked before sending again.
   */
  | { state: 'owned'; token: string; claimedAt: number; resumed: boolean }
  /** Another live holder is sending it; ask again after `retryAfterMs`. */
  | { state: 'busy'; retryAfterMs: number };

/**
 * Idempotency record of outbound pages. Protocol: `claim` before sending; then `complete` with the outcome,
 * or `release` when the send failed in a way that will be retried. Times are the database's clock, so
 * several workers agree on leases.
 */
export interface PageLogRepository<E> {
  /** Claims `key` for `holder` for `leaseMs`, or says why not. */
  claim(key: PageLogKey, holder: PageLogHolder, leaseMs: number): Promise<PageClaim<E>>;
  /**
   * Records the outcome of a key this caller claimed. The first outcome recorded wins, even when another
   * holder took the key over meanwhile (what was sent was sent): returns the recorded entry, `entry`
   * itself when `recorded`.
   */
  complete(key: PageLogKey, entry: E): Promise<{ entry: E; recorded: boolean }>;
  /**
   * Gives up an owned key without an outcome so the next claim takes over at once. `maybeSent: false`
   * says the provider certainly has nothing from this holder (e.g. a 429), so the next holder need not ask.
   */
  release(key: PageLogKey, token: string, maybeSent: boolean): Promise<void>;
}

const KEY_COLUMNS = 'incident_id, level, target, channel, attempt_window, recipient';
const KEY_MATCH =
  'incident_id = $1 AND level = $2 AND target = $3 AND channel = $4 AND attempt_window = $5 AND recipient = $6';

function keyParams(key: PageLogKey): unknown[] {
  return [key.incidentId, key.level, key.target, key.channel, key.attemptWindow, key.recipient];
}

const ms = (value: unknown): number => new Date(value as string | Date).getTime();
const json = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

interface LogRow {
  claimed_at: unknown;
  claim_token: string;
  holder: string;
  holder_attempt: number;
  lease_until: unknown;
  maybe_sent: boolean;
  completed_at: unknown;
  entry: unknown;
  now: unknown;
}

/** A page log on the `page_log` table; `sql` is e.g. `store.sqlClient()`. */
export function createSqlPageLog<E>(sql: SqlQueryable): PageLogRepository<E> {
  async function read(key: PageLogKey): Promise<LogRow | undefined> {
    const { rows } = await sql.query(
      `SELECT claimed_at, claim_token, holder, holder_attempt, lease_until, maybe_sent, completed_at, entry,
              clock_timestamp() AS now
         FROM page_log WHERE ${KEY_MATCH}`,
      keyParams(key),
    );
    return rows[0] as LogRow | undefined;
  }

  return {
    async claim(key, holder, leaseMs) {
      const token = randomUUID();
      const inserted = await sql.query(
        `INSERT INTO page_log (${KEY_COLUMNS}, page_key, claimed_at, claim_token, holder, holder_attempt, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp(), $8, $9, $10,
                 clock_timestamp() + $11::double precision * interval '1 millisecond')
         ON CONFLICT (${KEY_COLUMNS}) DO NOTHING
         RETURNING claimed_at`,
        [...keyParams(key), key.pageKey, token, holder.execution, holder.attempt, leaseMs],
      );
      const fresh = inserted.rows[0] as { claimed_at: unknown } | undefined;
      if (fresh) return { state: 'owned', token, claimedAt: ms(fresh.claimed_at), resumed: false };

      // Someone claimed it before. Take over a claim whose lease ran out, or one held by an earlier attempt
      // of this same activity (Temporal starts a retry only after that attempt failed or timed out); the
      // compare-and-set on the old token lets exactly one of several racing callers win.
      for (let round = 0; round < 3; round++) {
        const row = await read(key);
        if (!row) break;
        if (row.completed_at !== null && row.completed_at !== undefined) {
          return { state: 'completed', entry: json<E>(row.entry) };
        }
        const expired = ms(row.lease_until) <= ms(row.now);
        const earlierAttempt = row.holder === holder.execution && row.holder_attempt < holder.attempt;
        if (!expired && !earlierAttempt) {
          return { state: 'busy', retryAfterMs: Math.max(1, ms(row.lease_until) - ms(row.now)) };
        }
        const taken = await sql.query(
          `UPDATE page_log
              SET claim_token = $8, holder = $9, holder_attempt = $10, maybe_sent = true, claims = claims + 1,
                  lease_until = clock_timestamp() + $11::double precision * interval '1 millisecond'
            WHERE ${KEY_MATCH} AND claim_token = $7 AND completed_at IS NULL
            RETURNING claimed_at`,
          [...keyParams(key), row.claim_token, token, holder.execution, holder.attempt, leaseMs],
        );
        const won = taken.rows[0] as { claimed_at: unknown } | undefined;
        if (won) return { state: 'owned', token, claimedAt: ms(won.claimed_at), resumed: row.maybe_sent };
      }
      throw new Error(`page log: could not claim ${key.pageKey} ${key.recipient}`.trim());
    },

    async complete(key, entry) {
      const { rows } = await sql.query(
        `UPDATE page_log SET completed_at = clock_timestamp(), lease_until = clock_timestamp(), entry = $7::jsonb
          WHERE ${KEY_MATCH} AND completed_at IS NULL
          RETURNING 1`,
        [...keyParams(key), JSON.stringify(entry)],
      );
      if (rows.length > 0) return { entry, recorded: true };
      const row = await read(key);
      if (!row) throw new Error(`page log: ${key.pageKey} ${key.recipient} was never claimed`.trim());
      return { entry: json<E>(row.entry), recorded: false };
    },

    async release(key, token, maybeSent) {
      await sql.query(
        `UPDATE page_log SET lease_until = clock_timestamp(), maybe_sent = $8
          WHERE ${KEY_MATCH} AND claim_token = $7 AND completed_at IS NULL`,
        [...keyParams(key), token, maybeSent],
      );
    },
  };
}

import { randomUUID } from 'node:crypto';
import type { PageClaim, PageLogHolder, PageLogKey, PageLogRepository } from '../adapters/page-log-store';
import { targetKey } from '../domain/escalation';
import type { PageRecipient, PageRequest, PageResult } from './paging.activities';

export type { PageClaim, PageLogHolder, PageLogKey } from '../adapters/page-log-store';

/** What the page log remembers: a finished page, or one recipient's outcome inside a page. */
export type PageLogEntry =
  { kind: 'page'; result: PageResult } | { kind: 'recipient'; recipient: PageRecipient };

/**
 * Idempotency record for outbound pages, one key per page and one per recipient inside it (see
 * {@link pageLogKey}). Claimed before sending, completed with the outcome after: a completed key is never
 * sent again, and a claim that was never completed makes the next holder ask the provider first.
 * `createSqlPageLog` (adapters/page-log-store) keeps it in the store and survives worker restarts and
 * serves several workers; {@link createMemoryPageLog} covers one worker process.
 */
export type PageLog = PageLogRepository<PageLogEntry>;

/**
 * The page log key of a page (`recipient` omitted) or of one recipient's send. The attempt window is what
 * the page key says beyond the incident, the target and the channel: for escalation pages
 * (`<incident>/<openedAt>/L<level>.<round>/<target>/<channel>`) the incident's opening time and the level
 * with its repeat round, so activity retries share it and a policy `repeat` pages anew. A page key of
 * another shape is the attempt window as a whole.
 */
export function pageLogKey(req: PageRequest, recipient = ''): PageLogKey {
  const target = targetKey(req.target);
  const prefix = `${req.incidentId}/`;
  const suffix = `/${target}/${req.channel}`;
  const key = req.pageKey;
  const attemptWindow =
    key.startsWith(prefix) && key.endsWith(suffix) && key.length > prefix.length + suffix.length
      ? key.slice(prefix.length, key.length - suffix.length)
      : key;
  return {
    incidentId: req.incidentId,
    level: req.level,
    target,
    channel: req.channel,
    attemptWindow,
    recipient,
    pageKey: req.pageKey,
  };
}

interface MemoryRecord {
  claimedAt: number;
  token: string;
  holder: PageLogHolder;
  leaseUntil: number;
  maybeSent: boolean;
  entry?: PageLogEntry;
}

/**
 * In-memory page log, bounded: the oldest keys are forgotten beyond `capacity`. Only for setups without
 * a store (the composition root uses the store-backed log whenever a store is configured): it is lost
 * when the worker restarts and not shared between workers.
 */
export function createMemoryPageLog(capacity = 50_000, now: () => number = () => Date.now()): PageLog {
  const records = new Map<string, MemoryRecord>();
  const id = (key: PageLogKey): string =>
    JSON.stringify([key.incidentId, key.level, key.target, key.channel, key.attemptWindow, key.recipient]);
  return {
    claim(key, holder, leaseMs): Promise<PageClaim<PageLogEntry>> {
      const k = id(key);
      const at = now();
      const token = randomUUID();
      const existing = records.get(k);
      if (!existing) {
        records.set(k, { claimedAt: at, token, holder, leaseUntil: at + leaseMs, maybeSent: true });
        while (records.size > capacity) {
          const oldest = records.keys().next();
          if (oldest.done) break;
          records.delete(oldest.value);
        }
        return Promise.resolve({ state: 'owned', token, claimedAt: at, resumed: false });
      }
      if (existing.entry)
        return Promise.resolve({ state: 'completed', entry: structuredClone(existing.entry) });
      const earlierAttempt =
        existing.holder.execution === holder.execution && existing.holder.attempt < holder.attempt;
      if (existing.leaseUntil > at && !earlierAttempt) {
        return Promise.resolve({ state: 'busy', retryAfterMs: existing.leaseUntil - at });
      }
      const resumed = existing.maybeSent;
      Object.assign(existing, { token, holder, leaseUntil: at + leaseMs, maybeSent: true });
      return Promise.resolve({ state: 'owned', token, claimedAt: existing.claimedAt, resumed });
    },
    complete(key, entry) {
      const record = records.get(id(key));
      if (record?.entry) return Promise.resolve({ entry: structuredClone(record.entry), recorded: false });
      const at = now();
      const copy = structuredClone(entry);
      if (record) Object.assign(record, { entry: copy, leaseUntil: at });
      else {
        const holder = { execution: 'unknown', attempt: 0 };
        records.set(id(key), {
          claimedAt: at,
          token: '',
          holder,
          leaseUntil: at,
          maybeSent: true,
          entry: copy,
        });
      }
      return Promise.resolve({ entry, recorded: true });
    },
    release(key, token, maybeSent) {
      const record = records.get(id(key));
      if (record && !record.entry && record.token === token) {
        record.leaseUntil = now();
        record.maybeSent = maybeSent;
      }
      return Promise.resolve();
    },
  };
}

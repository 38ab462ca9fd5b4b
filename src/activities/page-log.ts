import type { PageRecipient, PageResult } from './paging.activities';

/** What the page log remembers: a finished page, or one recipient's outcome inside a page. */
export type PageLogEntry =
  { kind: 'page'; result: PageResult } | { kind: 'recipient'; recipient: PageRecipient };

/**
 * Idempotency record for outbound pages. Keys are a page key (`<incident>/L<level>/<target>/<channel>`) or
 * a page key plus `#<recipient>`. A key that has an entry is never sent again. A store-backed implementation
 * survives worker restarts; {@link createMemoryPageLog} covers one worker process.
 */
export interface PageLog {
  get(key: string): Promise<PageLogEntry | undefined>;
  put(key: string, entry: PageLogEntry): Promise<void>;
}

/** In-memory page log, bounded: the oldest keys are forgotten beyond `capacity`. */
export function createMemoryPageLog(capacity = 50_000): PageLog {
  const entries = new Map<string, PageLogEntry>();
  return {
    get: (key) => {
      const entry = entries.get(key);
      return Promise.resolve(entry ? structuredClone(entry) : undefined);
    },
    put: (key, entry) => {
      entries.delete(key);
      entries.set(key, structuredClone(entry));
      while (entries.size > capacity) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      return Promise.resolve();
    },
  };
}

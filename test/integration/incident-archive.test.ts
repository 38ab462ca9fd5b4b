/**
 * The incident archive (timeline entries and runbook runs moved out of a running incident's state) on
 * embedded PGlite and on a real PostgreSQL server: positions make every write idempotent.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createArchiveActivities } from '../../src/activities/archive.activities';
import { incidentArchive, type IncidentArchive } from '../../src/adapters/store/incident-archive';
import { incidentKeyOf } from '../../src/domain/incident-record';
import type { TimelineEntry } from '../../src/domain/timeline';
import { openTestStore, type StoreDriver, type TestStore } from '../helpers/store';

const KEY = incidentKeyOf('incident:customer_etl:failrate', '2026-11-25T09:17:00.000Z');

function entries(from: number, n: number): TimelineEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    at: '2026-11-25T09:20:00.000Z',
    kind: 'comment' as const,
    text: `entry ${from + i} — ünïcode`,
    actor: 'alice',
    seq: from + i,
    data: { n: from + i, ok: true, none: null },
  }));
}

describe.each<StoreDriver>(['pglite', 'postgres'])('incident archive on %s', (driver) => {
  let t: TestStore;
  let archive: IncidentArchive;

  beforeAll(async () => {
    t = await openTestStore(driver);
    await t.store.migrate();
    archive = incidentArchive(t.store.sqlClient());
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  it('stores entries at consecutive positions and returns them in order, as they were', async () => {
    const first = entries(1, 3);
    expect(await archive.archive(KEY, 'timeline', 1, first)).toBe(3);
    expect(await archive.archive(KEY, 'timeline', 4, entries(4, 2))).toBe(2);
    const read = await archive.read(KEY, 'timeline');
    expect(read.map((r) => r.position)).toEqual([1, 2, 3, 4, 5]);
    expect(read[0]!.entry).toEqual(first[0]);
    expect(read.every((r) => r.kind === 'timeline' && !Number.isNaN(Date.parse(r.archivedAt)))).toBe(true);
  });

  it('a retried batch writes nothing new and keeps the first copy', async () => {
    const key = `${KEY}-retry`;
    expect(await archive.archive(key, 'timeline', 1, entries(1, 4))).toBe(4);
    expect(await archive.archive(key, 'timeline', 1, entries(1, 4))).toBe(0);
    // A batch overlapping stored positions adds only the new ones.
    expect(await archive.archive(key, 'timeline', 3, entries(3, 4))).toBe(2);
    expect((await archive.read(key)).map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps kinds and incidents apart', async () => {
    const key = `${KEY}-kinds`;
    await archive.archive(key, 'runbook_history', 1, [
      { runId: 'rb#1', runbook: 'rb', status: 'failed', startedBy: 'alice' },
    ]);
    await archive.archive(key, 'timeline', 1, entries(1, 1));
    expect((await archive.read(key, 'runbook_history')).map((r) => r.entry.runId)).toEqual(['rb#1']);
    expect((await archive.read(key)).map((r) => r.kind)).toEqual(['timeline', 'runbook_history']);
    expect(await archive.read(`${KEY}-nothing`)).toEqual([]);
  });

  it.each([
    {
      name: 'empty incident key',
      call: (a: IncidentArchive) => a.archive('', 'timeline', 1, []),
      field: 'incidentKey',
    },
    {
      name: 'unknown kind',
      call: (a: IncidentArchive) => a.archive(KEY, 'alerts' as never, 1, entries(1, 1)),
      field: 'kind',
    },
    {
      name: 'position 0',
      call: (a: IncidentArchive) => a.archive(KEY, 'timeline', 0, entries(1, 1)),
      field: 'fromPosition',
    },
    {
      name: 'non-object entries',
      call: (a: IncidentArchive) => a.archive(KEY, 'timeline', 1, ['text'] as never),
      field: 'entries',
    },
  ])('refuses bad input naming the field: $name', async ({ call, field }) => {
    await expect(call(archive)).rejects.toThrow(new RegExp(`^${field} `));
  });

  it('the activity archives idempotently and turns bad input into a final failure', async () => {
    const { archiveIncidentEntries } = createArchiveActivities({ store: t.store });
    const input = {
      incidentKey: `${KEY}-activity`,
      kind: 'timeline' as const,
      fromPosition: 1,
      entries: entries(1, 2),
    };
    await expect(archiveIncidentEntries(input)).resolves.toEqual({ stored: 2 });
    await expect(archiveIncidentEntries(input)).resolves.toEqual({ stored: 0 });
    const failure = await archiveIncidentEntries({ ...input, fromPosition: -1 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'Rejected', nonRetryable: true });
    expect((failure as Error).message).toMatch(/^fromPosition must be a positive integer/);
  });
});

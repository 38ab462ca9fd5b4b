import { createSqlPageLog, type PageLogKey } from '../../src/adapters/page-log-store';
import { createStore } from '../../src/adapters/store';
import { createMemoryPageLog, type PageLog, type PageLogEntry } from '../../src/activities/page-log';
import { openTestStore, type StoreDriver, type TestStore } from '../helpers/store';

const LEASE = 60_000;
let keySeq = 0;

/** A fresh key per test, so tests on one store never share rows. */
function newKey(overrides: Partial<PageLogKey> = {}): PageLogKey {
  keySeq += 1;
  const incidentId = `incident:etl:${keySeq}`;
  return {
    incidentId,
    level: 2,
    target: 'role:primary',
    channel: 'sms',
    attemptWindow: '2026-12-05T08:00:00.000Z/L2.0',
    recipient: 'sms:alice',
    pageKey: `${incidentId}/2026-12-05T08:00:00.000Z/L2.0/role:primary/sms`,
    ...overrides,
  };
}

const sentEntry = (providerId: string): PageLogEntry => ({
  kind: 'recipient',
  recipient: { personId: 'alice', address: '+82******5678', status: 'sent', providerId },
});

const holder = (execution: string, attempt = 1) => ({ execution, attempt });

/** Behaviour every page log shares: the memory one and the SQL one on PGlite and PostgreSQL. */
function pageLogContract(log: () => PageLog, others: () => PageLog[]): void {
  it('gives a fresh key to its first claimer, with the claim time', async () => {
    const before = Date.now();
    const claim = await log().claim(newKey(), holder('wf/run/1'), LEASE);
    expect(claim).toMatchObject({ state: 'owned', resumed: false });
    if (claim.state !== 'owned') throw new Error('not owned');
    // The database's clock, which may differ from this process's by a little.
    expect(Math.abs(claim.claimedAt - before)).toBeLessThan(60_000);
  });

  it('returns the recorded entry for a completed key, to anyone', async () => {
    const key = newKey();
    await log().claim(key, holder('wf/run/1'), LEASE);
    expect(await log().complete(key, sentEntry('SM1'))).toEqual({ entry: sentEntry('SM1'), recorded: true });
    for (const l of [log(), ...others()]) {
      expect(await l.claim(key, holder('wf/run/2', 5), LEASE)).toEqual({
        state: 'completed',
        entry: sentEntry('SM1'),
      });
    }
  });

  it('keeps the first outcome when a second one is recorded', async () => {
    const key = newKey();
    await log().claim(key, holder('wf/run/1'), LEASE);
    await log().complete(key, sentEntry('SM1'));
    expect(await log().complete(key, sentEntry('SM2'))).toEqual({ entry: sentEntry('SM1'), recorded: false });
  });

  it('tells another execution that a live claim is busy, with the lease left', async () => {
    const key = newKey();
    await log().claim(key, holder('wf/run/1'), LEASE);
    const claim = await log().claim(key, holder('wf/run/other'), LEASE);
    expect(claim.state).toBe('busy');
    if (claim.state !== 'busy') throw new Error('not busy');
    expect(claim.retryAfterMs).toBeGreaterThan(0);
    expect(claim.retryAfterMs).toBeLessThanOrEqual(LEASE);
  });

  it('lets a later attempt of the same execution take over at once, as resumed, keeping the first claim time', async () => {
    const key = newKey();
    const first = await log().claim(key, holder('wf/run/act', 1), LEASE);
    const second = await log().claim(key, holder('wf/run/act', 2), LEASE);
    expect(second).toMatchObject({ state: 'owned', resumed: true });
    if (first.state !== 'owned' || second.state !== 'owned') throw new Error('not owned');
    expect(second.claimedAt).toBe(first.claimedAt);
    expect(second.token).not.toBe(first.token);
    // The earlier attempt cannot come back.
    expect((await log().claim(key, holder('wf/run/act', 1), LEASE)).state).toBe('busy');
  });

  it('lets anyone take over once the lease ran out', async () => {
    const key = newKey();
    await log().claim(key, holder('wf/run/1'), 0);
    expect(await log().claim(key, holder('wf/run/other'), LEASE)).toMatchObject({
      state: 'owned',
      resumed: true,
    });
  });

  it('after a release, hands the key over at once and says whether something may have gone out', async () => {
    const key = newKey();
    const a = await log().claim(key, holder('wf/run/1'), LEASE);
    if (a.state !== 'owned') throw new Error('not owned');
    await log().release(key, a.token, false);
    const b = await log().claim(key, holder('wf/run/2'), LEASE);
    expect(b).toMatchObject({ state: 'owned', resumed: false });
    if (b.state !== 'owned') throw new Error('not owned');
    await log().release(key, b.token, true);
    expect(await log().claim(key, holder('wf/run/3'), LEASE)).toMatchObject({
      state: 'owned',
      resumed: true,
    });
  });

  it('ignores a release by a holder that lost the key', async () => {
    const key = newKey();
    const a = await log().claim(key, holder('wf/run/act', 1), LEASE);
    if (a.state !== 'owned') throw new Error('not owned');
    await log().claim(key, holder('wf/run/act', 2), LEASE);
    await log().release(key, a.token, false);
    expect((await log().claim(key, holder('wf/run/other'), LEASE)).state).toBe('busy');
  });

  it('keeps keys apart by level, target, channel, attempt window and recipient', async () => {
    const base = newKey();
    const variants: PageLogKey[] = [
      { ...base, level: 3 },
      { ...base, target: 'role:secondary' },
      { ...base, channel: 'phone' },
      { ...base, attemptWindow: '2026-12-05T08:00:00.000Z/L2.1' },
      { ...base, recipient: 'sms:bob' },
      { ...base, recipient: '' },
    ];
    await log().claim(base, holder('wf/run/1'), LEASE);
    for (const key of variants) {
      expect((await log().claim(key, holder('wf/run/1'), LEASE)).state).toBe('owned');
    }
  });

  it('gives one of two concurrent claims of one key the key, and the other a busy answer', async () => {
    const key = newKey();
    const logs = [log(), ...others()];
    const claims = await Promise.all(
      [0, 1].map((i) => logs[i % logs.length]!.claim(key, holder(`wf/run/${i}`), LEASE)),
    );
    expect(claims.map((c) => c.state).sort()).toEqual(['busy', 'owned']);
  });

  it('gives exactly one of many concurrent takeovers of an expired claim the key', async () => {
    const key = newKey();
    await log().claim(key, holder('wf/run/crashed'), 0);
    const logs = [log(), ...others()];
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => logs[i % logs.length]!.claim(key, holder(`wf/run/${i}`), LEASE)),
    );
    expect(claims.filter((c) => c.state === 'owned')).toHaveLength(1);
    expect(claims.filter((c) => c.state === 'busy')).toHaveLength(7);
  });
}

describe('memory page log', () => {
  let log: PageLog;
  beforeEach(() => {
    log = createMemoryPageLog();
  });
  pageLogContract(
    () => log,
    () => [],
  );

  it('forgets the oldest keys beyond its capacity', async () => {
    const small = createMemoryPageLog(2);
    const [a, b, c] = [newKey(), newKey(), newKey()];
    for (const key of [a, b, c]) {
      await small.claim(key, holder('wf/run/1'), LEASE);
      await small.complete(key, sentEntry(key.incidentId));
    }
    expect((await small.claim(a, holder('wf/run/2'), LEASE)).state).toBe('owned');
    expect((await small.claim(c, holder('wf/run/2'), LEASE)).state).toBe('completed');
  });
});

describe.each<StoreDriver>(['pglite', 'postgres'])('SQL page log on %s', (driver) => {
  let t: TestStore;
  let second: TestStore['store'] | undefined;
  let log: PageLog;
  let otherLogs: PageLog[] = [];

  beforeAll(async () => {
    t = await openTestStore(driver);
    await t.store.migrate();
    log = createSqlPageLog<PageLogEntry>(t.store.sqlClient());
    if (driver === 'postgres') {
      // A second connection pool on the same schema: another worker process, as far as the server can tell.
      second = await createStore(t.options);
      otherLogs = [createSqlPageLog<PageLogEntry>(second.sqlClient())];
    }
  });

  afterAll(async () => {
    await second?.close();
    await t?.cleanup();
  });

  pageLogContract(
    () => log,
    () => otherLogs,
  );

  it('stores the page key and the outcome as JSON in page_log', async () => {
    const key = newKey();
    await log.claim(key, holder('wf/run/1'), LEASE);
    await log.complete(key, sentEntry('SM9'));
    const { rows } = await t.store
      .sqlClient()
      .query('SELECT page_key, claims, entry, completed_at FROM page_log WHERE incident_id = $1', [
        key.incidentId,
      ]);
    expect(rows).toHaveLength(1);
    const row = rows[0] as { page_key: string; claims: number; entry: unknown; completed_at: unknown };
    expect(row.page_key).toBe(key.pageKey);
    expect(row.claims).toBe(1);
    expect(row.entry).toEqual(sentEntry('SM9'));
    expect(row.completed_at).not.toBeNull();
  });
});

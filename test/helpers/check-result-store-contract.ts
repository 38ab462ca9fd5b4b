import type { CheckResultStore } from '../../src/adapters/check-result-store';
import type { CheckSetResult } from '../../src/domain/data-quality';

function result(runKey: string, startedAt: string, rowCount: number | undefined): CheckSetResult {
  return {
    checkSet: 'orders',
    runKey,
    table: 'public.orders',
    startedAt,
    finishedAt: startedAt,
    outcome: rowCount === undefined ? 'error' : 'pass',
    results: [
      rowCount === undefined
        ? { checkId: 'row_count > 0', name: 'row_count > 0', outcome: 'error', message: 'not run: down' }
        : {
            checkId: 'row_count > 0',
            name: 'row_count > 0',
            outcome: 'pass',
            actual: rowCount,
            expected: '> 0',
            message: `row_count ${rowCount} is > 0`,
          },
    ],
  };
}

/**
 * Behaviour every {@link CheckResultStore} shares; call inside a describe block. `makeStore` returns an
 * empty store.
 */
export function checkResultStoreContract(makeStore: () => Promise<CheckResultStore>): void {
  let store: CheckResultStore;
  beforeEach(async () => {
    store = await makeStore();
  });

  it('returns measured history newest first, skipping errors', async () => {
    await store.save(result('a', '2025-01-01T00:00:00.000Z', 10));
    await store.save(result('c', '2025-01-03T00:00:00.000Z', 30));
    await store.save(result('b', '2025-01-02T00:00:00.000Z', 20));
    await store.save(result('d', '2025-01-04T00:00:00.000Z', undefined));
    expect(await store.previousResults('orders', 'row_count > 0', 2)).toEqual([
      {
        checkId: 'row_count > 0',
        runKey: 'c',
        outcome: 'pass',
        actual: 30,
        measuredAt: '2025-01-03T00:00:00.000Z',
      },
      {
        checkId: 'row_count > 0',
        runKey: 'b',
        outcome: 'pass',
        actual: 20,
        measuredAt: '2025-01-02T00:00:00.000Z',
      },
    ]);
    expect(await store.previousResults('other', 'row_count > 0', 2)).toEqual([]);
  });

  it('keeps the first result stored for a run key', async () => {
    const first = result('a', '2025-01-01T00:00:00.000Z', 10);
    expect(await store.save(first)).toEqual({ result: first, inserted: true });
    expect(await store.save(result('a', '2025-01-01T00:05:00.000Z', 99))).toEqual({
      result: first,
      inserted: false,
    });
    expect(await store.runResult('orders', 'a')).toEqual(first);
    expect(await store.runResult('orders', 'missing')).toBeUndefined();
    expect((await store.previousResults('orders', 'row_count > 0', 5)).map((r) => r.actual)).toEqual([10]);
  });

  it('lists recent runs newest first', async () => {
    await store.save(result('a', '2025-01-01T00:00:00.000Z', 10));
    await store.save(result('b', '2025-01-02T00:00:00.000Z', 20));
    await store.save(result('c', '2025-01-03T00:00:00.000Z', undefined));
    expect((await store.recentRuns({ limit: 2 })).map((r) => r.runKey)).toEqual(['c', 'b']);
    expect((await store.recentRuns({ checkSet: 'orders', limit: 5 })).map((r) => r.runKey)).toEqual([
      'c',
      'b',
      'a',
    ]);
  });
}

import { OUTAGE_BACKOFF, outageBackoffMs } from '../../../src/workflows/incident/chatops';

describe('outageBackoffMs', () => {
  it.each([
    [0, 30_000],
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [4, 240_000],
    [5, 300_000],
    [6, 300_000],
    [1_000, 300_000],
  ])('after %i failed attempts waits %i ms', (attempts, ms) => {
    expect(outageBackoffMs(attempts)).toBe(ms);
  });

  it('never waits longer than the cap', () => {
    for (let attempts = 0; attempts < 100; attempts++)
      expect(outageBackoffMs(attempts)).toBeLessThanOrEqual(OUTAGE_BACKOFF.maxMs);
  });
});

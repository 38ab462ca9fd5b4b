import { NO_HOLD, observeHold, type HoldProgress } from '../../../src/domain/hold';

describe('observeHold', () => {
  it.each<[string, HoldProgress, boolean, number, number, { progress: HoldProgress; held: boolean }]>([
    [
      'a first good observation starts the hold',
      NO_HOLD,
      true,
      1_000,
      60_000,
      { progress: { since: 1_000, polls: 1 }, held: false },
    ],
    [
      'a zero hold is met by the first good observation',
      NO_HOLD,
      true,
      1_000,
      0,
      { progress: { since: 1_000, polls: 1 }, held: true },
    ],
    [
      'the hold is met when exactly holdFor has passed',
      { since: 1_000, polls: 3 },
      true,
      61_000,
      60_000,
      { progress: { since: 1_000, polls: 4 }, held: true },
    ],
    [
      'a good observation keeps an earlier start',
      { since: 1_000, polls: 3 },
      true,
      30_000,
      60_000,
      { progress: { since: 1_000, polls: 4 }, held: false },
    ],
    [
      'a bad observation resets the hold',
      { since: 1_000, polls: 3 },
      false,
      30_000,
      60_000,
      { progress: { since: null, polls: 4 }, held: false },
    ],
  ])('%s', (_name, progress, ok, at, holdFor, expected) => {
    expect(observeHold(progress, ok, at, holdFor)).toEqual(expected);
  });
});

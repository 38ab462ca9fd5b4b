import { absoluteTarget, type SizeChange } from '../../../src/domain/relative-change';

describe('absoluteTarget', () => {
  it.each<[string, number, SizeChange, number]>([
    ['an increase adds to the live size', 3, { increaseBy: 2 }, 5],
    ['an increase from zero', 0, { increaseBy: 5 }, 5],
    ['an absolute size ignores the live size', 3, { to: 7 }, 7],
    ['an absolute size equal to the live size', 7, { to: 7 }, 7],
    ['an absolute size may shrink', 9, { to: 2 }, 2],
    ['an unlimited pool (-1 slots) stays unlimited on an increase', -1, { increaseBy: 5 }, -1],
    ['an unlimited pool can still be given an absolute size', -1, { to: 8 }, 8],
  ])('%s', (_name, previous, change, expected) => {
    expect(absoluteTarget(previous, change)).toBe(expected);
  });
});

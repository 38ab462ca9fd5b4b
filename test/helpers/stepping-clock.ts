import type { Clock } from '../../src/activities/clock';

/**
 * A Clock whose `sleep` returns at once after moving time forward by the requested amount, so polling
 * activities run through hours of waiting instantly and deterministically. `onSleep` lets a test change
 * the world at a given time (e.g. make a metric dip).
 */
export interface SteppingClock extends Clock {
  /** Every sleep requested, in order (ms). */
  readonly sleeps: number[];
  advance(ms: number): void;
  set(ms: number): void;
}

export function createSteppingClock(startMs = Date.UTC(2024, 4, 1, 12, 0, 0)): SteppingClock {
  let t = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep(ms, signal) {
      if (signal?.aborted) {
        return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      }
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
    advance(ms) {
      t += ms;
    },
    set(ms) {
      t = ms;
    },
  };
}

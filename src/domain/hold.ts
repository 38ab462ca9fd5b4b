/**
 * "Must hold for a duration" bookkeeping for check steps (PromQL, Airflow state). Pure: the polling
 * activity feeds observations in and keeps the progress in its heartbeat details so a retried attempt
 * resumes with the same `since`.
 */
export interface HoldProgress {
  /** Time (ms) of the first observation of the current unbroken run of good observations; null when broken. */
  since: number | null;
  /** Observations made so far (all attempts). */
  polls: number;
}

export const NO_HOLD: HoldProgress = { since: null, polls: 0 };

/**
 * Adds one observation. A bad observation resets the hold; a good one starts it (keeping an earlier
 * start). `held` is true once good observations have lasted at least `holdForMs` (0 = the first good one).
 */
export function observeHold(
  progress: HoldProgress,
  ok: boolean,
  atMs: number,
  holdForMs: number,
): { progress: HoldProgress; held: boolean } {
  const polls = progress.polls + 1;
  if (!ok) return { progress: { since: null, polls }, held: false };
  const since = progress.since ?? atMs;
  return { progress: { since, polls }, held: atMs - since >= holdForMs };
}

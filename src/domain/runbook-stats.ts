import type { RunbookOutcome } from './incident-record';

/**
 * Runbook success rates (pure): they order runbook suggestions and flag runbooks that keep failing
 * ("이 runbook이 70% 성공?" in the seed). `aborted` runs (a rejected approval, a person stopping the
 * runbook) say nothing about the runbook and are left out of every rate.
 */

export interface RunbookRun {
  runbook: string;
  incidentType: string;
  outcome: RunbookOutcome;
  finishedAtMs: number;
}

export type DecidedOutcome = Exclude<RunbookOutcome, 'aborted'>;

export interface RunbookRate {
  runbook: string;
  /** Set for the per-(runbook, incident type) rates. */
  incidentType?: string;
  runs: number;
  successes: number;
  failures: number;
  aborted: number;
  /** successes / (successes + failures); absent before any decided run. */
  rate?: number;
  /** Laplace-smoothed rate (successes + 1) / (successes + failures + 2): 0.5 with no data. */
  smoothedRate: number;
  /** Decided outcomes, newest first. */
  recent: DecidedOutcome[];
}

export interface RunbookStats {
  byRunbook: RunbookRate[];
  byRunbookAndType: RunbookRate[];
}

/** Success rates per runbook and per (runbook, incident type), sorted by runbook then type. */
export function successRates(runs: readonly RunbookRun[]): RunbookStats {
  const newestFirst = runs
    .map((run, i) => ({ run, i }))
    .sort((a, b) => b.run.finishedAtMs - a.run.finishedAtMs || a.i - b.i)
    .map(({ run }) => run);
  const byRunbook = new Map<string, RunbookRate>();
  const byPair = new Map<string, RunbookRate>();
  for (const run of newestFirst) {
    count(byRunbook, run.runbook, { runbook: run.runbook }, run.outcome);
    count(
      byPair,
      `${run.runbook}\u0000${run.incidentType}`,
      { runbook: run.runbook, incidentType: run.incidentType },
      run.outcome,
    );
  }
  const sorted = (m: Map<string, RunbookRate>): RunbookRate[] =>
    [...m.values()].sort(
      (a, b) =>
        a.runbook.localeCompare(b.runbook) || (a.incidentType ?? '').localeCompare(b.incidentType ?? ''),
    );
  return { byRunbook: sorted(byRunbook), byRunbookAndType: sorted(byPair) };
}

function count(
  map: Map<string, RunbookRate>,
  key: string,
  id: Pick<RunbookRate, 'runbook' | 'incidentType'>,
  outcome: RunbookOutcome,
): void {
  let r = map.get(key);
  if (!r) {
    r = { ...id, runs: 0, successes: 0, failures: 0, aborted: 0, smoothedRate: 0.5, recent: [] };
    map.set(key, r);
  }
  r.runs += 1;
  if (outcome === 'aborted') {
    r.aborted += 1;
    return;
  }
  if (outcome === 'success') r.successes += 1;
  else r.failures += 1;
  r.recent.push(outcome);
  const decided = r.successes + r.failures;
  r.rate = r.successes / decided;
  r.smoothedRate = (r.successes + 1) / (decided + 2);
}

/** A runbook suggestion with the record it is ranked on. */
export interface RunbookSuggestion {
  runbook: string;
  /** Laplace-smoothed success rate used for ranking. */
  score: number;
  /** Raw success rate, when the runbook has decided runs. */
  rate?: number;
  /** Decided runs behind the rate. */
  runs: number;
  /** Whether the rate is for this incident type, the runbook overall, or there is none. */
  scope: 'incident_type' | 'runbook' | 'none';
  basis: string;
}

/**
 * Orders candidate runbooks by success rate, best first: the rate for this incident type when that
 * runbook has run for it, else its overall rate, else 0.5 (no data). Ties keep the candidates' order
 * (routing's and the diagnosis' preference).
 */
export function orderSuggestions(
  candidates: readonly string[],
  stats: RunbookStats,
  options: { incidentType?: string } = {},
): RunbookSuggestion[] {
  const unique = [...new Set(candidates)];
  return unique
    .map((runbook, i) => ({ suggestion: suggestion(runbook, stats, options.incidentType), i }))
    .sort((a, b) => b.suggestion.score - a.suggestion.score || a.i - b.i)
    .map(({ suggestion: s }) => s);
}

function suggestion(
  runbook: string,
  stats: RunbookStats,
  incidentType: string | undefined,
): RunbookSuggestion {
  const pair =
    incidentType === undefined
      ? undefined
      : stats.byRunbookAndType.find((r) => r.runbook === runbook && r.incidentType === incidentType);
  const overall = stats.byRunbook.find((r) => r.runbook === runbook);
  const pick = (r: RunbookRate | undefined): r is RunbookRate & { rate: number } =>
    r !== undefined && r.rate !== undefined;
  if (pick(pair)) {
    const n = pair.successes + pair.failures;
    return {
      runbook,
      score: pair.smoothedRate,
      rate: pair.rate,
      runs: n,
      scope: 'incident_type',
      basis: `succeeded ${pair.successes} of ${n} ${incidentType} run${n === 1 ? '' : 's'} (${pct(pair.rate)})`,
    };
  }
  if (pick(overall)) {
    const n = overall.successes + overall.failures;
    return {
      runbook,
      score: overall.smoothedRate,
      rate: overall.rate,
      runs: n,
      scope: 'runbook',
      basis: `succeeded ${overall.successes} of ${n} run${n === 1 ? '' : 's'} (${pct(overall.rate)})`,
    };
  }
  return { runbook, score: 0.5, runs: 0, scope: 'none', basis: 'no runs recorded yet' };
}

/** A runbook that keeps failing and needs a person to improve it. */
export interface WeakRunbook {
  runbook: string;
  /** Decided runs in the window (at most `lastN`). */
  runs: number;
  failures: number;
  /** Success rate over the window. */
  rate: number;
  /** "failed 4 of its last 5 runs" */
  message: string;
}

export interface WeakRunbookOptions {
  /** Flag below this success rate over the window (default 0.6). */
  threshold?: number;
  /** Window: the last N decided runs (default 5). */
  lastN?: number;
  /** Do not judge with fewer decided runs than this (default 3). */
  minRuns?: number;
}

/** Runbooks whose success rate over their last N decided runs is below the threshold, weakest first. */
export function flagWeakRunbooks(stats: RunbookStats, options: WeakRunbookOptions = {}): WeakRunbook[] {
  const threshold = options.threshold ?? 0.6;
  const lastN = options.lastN ?? 5;
  const minRuns = options.minRuns ?? 3;
  const flagged: WeakRunbook[] = [];
  for (const r of stats.byRunbook) {
    const window = r.recent.slice(0, lastN);
    if (window.length < minRuns || window.length === 0) continue;
    const failures = window.filter((o) => o === 'failure').length;
    const rate = (window.length - failures) / window.length;
    if (rate >= threshold) continue;
    flagged.push({
      runbook: r.runbook,
      runs: window.length,
      failures,
      rate,
      message: `failed ${failures} of its last ${window.length} run${window.length === 1 ? '' : 's'}`,
    });
  }
  return flagged.sort((a, b) => a.rate - b.rate || a.runbook.localeCompare(b.runbook));
}

function pct(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}

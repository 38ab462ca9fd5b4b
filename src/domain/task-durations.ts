/**
 * "Which task made the DAG late?" (DESIGN §4, sla_miss): each task's duration in the late run against its
 * mean and P95 over recent successful runs. Pure.
 */

export interface TaskDuration {
  taskId: string;
  /** Seconds; for a task still running, the time it has run so far. */
  seconds: number;
}

export interface SlowTask {
  taskId: string;
  seconds: number;
  meanSeconds: number;
  p95Seconds: number;
  /** How far above its P95 the task ran, as a ratio (0.38 = 38 % over). Negative when under. */
  overP95: number;
  samples: number;
}

/** Nearest-rank percentile of a sample (q in 0..1). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * Ranks the current run's tasks by how far they ran over their own P95 (tasks with at least `minSamples`
 * earlier durations), the worst first; the first one is the bottleneck.
 */
export function slowestAgainstP95(
  current: readonly TaskDuration[],
  history: Readonly<Record<string, readonly number[]>>,
  minSamples = 3,
): SlowTask[] {
  const out: SlowTask[] = [];
  for (const task of current) {
    const samples = history[task.taskId] ?? [];
    if (samples.length < minSamples) continue;
    const p95 = percentile(samples, 0.95);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    out.push({
      taskId: task.taskId,
      seconds: task.seconds,
      meanSeconds: Math.round(mean),
      p95Seconds: p95,
      overP95: p95 > 0 ? (task.seconds - p95) / p95 : 0,
      samples: samples.length,
    });
  }
  return out.sort((a, b) => b.overP95 - a.overP95 || a.taskId.localeCompare(b.taskId));
}

function minutes(seconds: number): string {
  return seconds >= 90 ? `${Math.round(seconds / 60)}m` : `${Math.round(seconds)}s`;
}

/** "transform ran 62m, 38% over its P95 of 45m (mean 44m over 14 runs)" */
export function describeSlowTask(t: SlowTask): string {
  const pct = Math.round(t.overP95 * 100);
  const relation = pct >= 0 ? `${pct}% over` : `${-pct}% under`;
  return `${t.taskId} ran ${minutes(t.seconds)}, ${relation} its P95 of ${minutes(t.p95Seconds)} (mean ${minutes(t.meanSeconds)} over ${t.samples} runs)`;
}

import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+)(ms|s|m|h|d)/g;
const WHOLE = /^(\d+(ms|s|m|h|d))+$/;

/**
 * A duration written as a string such as `"30s"`, `"5m"`, `"1h30m"` or `"2d"`. Durations stay strings in
 * config and workflow inputs (JSON-safe); {@link durationMs} converts them.
 */
export const Duration = z.string().regex(WHOLE, 'must be a duration such as "30s", "5m", "1h30m" or "2d"');
export type Duration = z.infer<typeof Duration>;

/** Milliseconds in a duration string; throws on a malformed one (validate with {@link Duration} first). */
export function durationMs(value: string): number {
  if (!WHOLE.test(value)) throw new Error(`invalid duration "${value}"`);
  let total = 0;
  for (const match of value.matchAll(PART)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  return total;
}

/** Formats milliseconds compactly for people: `90000` → `"1m30s"`, `0` → `"0s"`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return ms <= 0 ? '0s' : `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, secs] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / secs);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * secs;
  }
  return parts.join('');
}

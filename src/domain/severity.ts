import { z } from 'zod';

/** Incident priority. P1 is the most urgent. */
export const Severity = z.enum(['P1', 'P2', 'P3', 'P4']);
export type Severity = z.infer<typeof Severity>;

const rank: Record<Severity, number> = { P1: 1, P2: 2, P3: 3, P4: 4 };

/** True when `a` is more urgent than `b`. */
export function isWorse(a: Severity, b: Severity): boolean {
  return rank[a] < rank[b];
}

/** The more urgent of two severities. */
export function worst(a: Severity, b: Severity): Severity {
  return isWorse(b, a) ? b : a;
}

/** Default mapping from the `severity` label conventions seen in Prometheus rules to priorities. */
export const DEFAULT_SEVERITY_ALIASES: Readonly<Record<string, Severity>> = {
  p1: 'P1',
  p2: 'P2',
  p3: 'P3',
  p4: 'P4',
  critical: 'P1',
  page: 'P1',
  high: 'P2',
  error: 'P2',
  warning: 'P3',
  medium: 'P3',
  low: 'P4',
  info: 'P4',
};

/** Parses a severity label value (case-insensitive); undefined when it is not recognised. */
export function parseSeverity(
  value: string | undefined,
  aliases: Readonly<Record<string, Severity>> = DEFAULT_SEVERITY_ALIASES,
): Severity | undefined {
  if (value === undefined) return undefined;
  return aliases[value.trim().toLowerCase()];
}

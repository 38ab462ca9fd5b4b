/**
 * Evaluation of data-quality checks against measurements taken from the data source. Pure and
 * workflow-safe: the adapter measures, this module decides.
 */
import { formatDuration } from './duration';
import {
  type Check,
  type FreshnessCheck,
  type NumericCondition,
  type RowCountChangeCheck,
  type RowCountCheck,
  type SchemaCheck,
  type SchemaRules,
  describeBaseline,
  describeCondition,
  displayIdentifier,
  normalizeColumnType,
} from './data-quality-checks';

/**
 * Outcome of a check or a check set. `warn` and `fail` are findings about the data; `error` means the
 * check could not be evaluated (unreachable database, missing table or column, timeout).
 */
export const OUTCOMES = ['pass', 'warn', 'error', 'fail'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const RANK: Record<Outcome, number> = { pass: 0, warn: 1, error: 2, fail: 3 };

/**
 * The worse of outcomes, ordered pass < warn < error < fail: a failed check outranks a check that could not
 * run, and a blind check outranks a warning. `pass` for none.
 */
export function worstOutcome(outcomes: Iterable<Outcome>): Outcome {
  let worst: Outcome = 'pass';
  for (const o of outcomes) if (RANK[o] > RANK[worst]) worst = o;
  return worst;
}

/** A column as the data source reports it, in table order. `type` is normalised. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/** Age of the newest value of a timestamp/date column, or null when there is none. */
export interface FreshnessMeasurement {
  ageMs: number | null;
  /** Whether the (filtered) table has any rows; tells "empty table" from "all values NULL". */
  hasRows: boolean;
}

/** What the data source reported for one check-set run. */
export interface Measurements {
  /** Columns of the table, in order. */
  columns: ColumnInfo[];
  /** `count(*)` (with the check set's filter), when a row-count check needs it. */
  rowCount?: number;
  /** Per column name, for freshness checks on existing timestamp/date columns. */
  freshness: Record<string, FreshnessMeasurement>;
}

/** A stored earlier result used as history by row-count change checks (newest first). */
export interface PreviousResult {
  actual: number;
  measuredAt: string;
}

/**
 * Result of one check. `actual` is numeric: rows for row-count and change checks (so history holds row
 * counts), seconds for freshness; absent for schema checks and errors.
 */
export interface CheckResult {
  checkId: string;
  /** The check as written. */
  name: string;
  outcome: Outcome;
  actual?: number;
  /** The condition that passes, as text (`between 1000 and 5000`, `< 2h`). */
  expected?: string;
  /** One line for people, with the numbers. */
  message: string;
  /** Structured extras (e.g. change percentage and baseline, schema problems). */
  details?: Record<string, unknown>;
}

const TEMPORAL_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone', 'date']);

/** True when freshness can be measured on a column of this (normalised) type. */
export function isTemporalType(type: string): boolean {
  return TEMPORAL_TYPES.has(type);
}

/** True when `value` satisfies `condition`. */
export function conditionHolds(condition: NumericCondition, value: number): boolean {
  switch (condition.op) {
    case '>':
      return value > condition.value;
    case '>=':
      return value >= condition.value;
    case '<':
      return value < condition.value;
    case '<=':
      return value <= condition.value;
    case '=':
      return value === condition.value;
    case '!=':
      return value !== condition.value;
    case 'between':
    case 'not between': {
      const inside = condition.inclusive
        ? value >= condition.min && value <= condition.max
        : value > condition.min && value < condition.max;
      return condition.op === 'between' ? inside : !inside;
    }
  }
}

const base = (check: Check): Pick<CheckResult, 'checkId' | 'name'> => ({
  checkId: check.id,
  name: check.name,
});

function error(check: Check, message: string): CheckResult {
  return { ...base(check), outcome: 'error', message };
}

function evaluateRowCount(check: RowCountCheck, m: Measurements): CheckResult {
  if (m.rowCount === undefined) return error(check, 'row_count was not measured');
  const expected = describeCondition(check.condition);
  const holds = conditionHolds(check.condition, m.rowCount);
  // "is not not between …" reads badly: say where the value is instead.
  const phrase =
    check.condition.op === 'not between'
      ? `is ${holds ? 'not ' : ''}${describeCondition({ ...check.condition, op: 'between' })}`
      : `is ${holds ? '' : 'not '}${expected}`;
  return {
    ...base(check),
    outcome: holds ? 'pass' : 'fail',
    actual: m.rowCount,
    expected,
    message: `row_count ${m.rowCount} ${phrase}`,
  };
}

function formatPct(pct: number): string {
  return `${Number(pct.toFixed(2))}%`;
}

function evaluateRowCountChange(
  check: RowCountChangeCheck,
  m: Measurements,
  history: readonly PreviousResult[],
): CheckResult {
  if (m.rowCount === undefined) return error(check, 'row_count was not measured');
  const current = m.rowCount;
  const expected = `change ${check.inclusive ? '<=' : '<'} ${formatPct(check.maxPct)} vs ${describeBaseline(check.baseline)}`;
  const wanted = check.baseline === 'previous' ? 1 : check.baseline.avg;
  const used = history.slice(0, wanted);
  if (used.length === 0) {
    return {
      ...base(check),
      outcome: 'pass',
      actual: current,
      expected,
      message: `row_count ${current} recorded; no previous row count to compare with yet`,
      details: { baselineResults: 0 },
    };
  }
  const baselineValue = used.reduce((sum, r) => sum + r.actual, 0) / used.length;
  const pct =
    baselineValue === 0
      ? current === 0
        ? 0
        : Infinity
      : (Math.abs(current - baselineValue) / baselineValue) * 100;
  const holds = check.inclusive ? pct <= check.maxPct : pct < check.maxPct;
  const against =
    check.baseline === 'previous'
      ? `vs previous ${formatNumber(baselineValue)}`
      : `vs avg of last ${used.length} ${formatNumber(baselineValue)}`;
  const limit = `${check.inclusive ? '<=' : '<'} ${formatPct(check.maxPct)}`;
  const change = Number.isFinite(pct) ? formatPct(pct) : 'unbounded';
  return {
    ...base(check),
    outcome: holds ? 'pass' : 'fail',
    actual: current,
    expected,
    message: `row_count change ${change} (${formatNumber(current)} ${against}) is ${holds ? '' : 'not '}${limit}`,
    details: {
      changePct: Number.isFinite(pct) ? Number(pct.toFixed(4)) : null,
      baseline: baselineValue,
      baselineResults: used.length,
    },
  };
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(2)));
}

function evaluateFreshness(check: FreshnessCheck, m: Measurements): CheckResult {
  const label = `freshness(${displayIdentifier(check.column)})`;
  const column = m.columns.find((c) => c.name === check.column);
  if (!column) return error(check, `column ${check.column} does not exist`);
  if (!isTemporalType(column.type)) {
    return error(
      check,
      `column ${check.column} has type ${column.type}; freshness needs a timestamp or date column`,
    );
  }
  const expected = [
    check.warnAfterMs === undefined ? undefined : `warn > ${formatDuration(check.warnAfterMs)}`,
    check.failAfterMs === undefined ? undefined : `fail > ${formatDuration(check.failAfterMs)}`,
  ]
    .filter((s) => s !== undefined)
    .join(', ');
  const measured = m.freshness[check.column];
  if (measured === undefined) return error(check, `${label} was not measured`);
  if (measured.ageMs === null) {
    return {
      ...base(check),
      outcome: 'fail',
      expected,
      message: measured.hasRows
        ? `no non-NULL values in ${check.column}: freshness unknown`
        : 'no rows: freshness unknown',
    };
  }
  const age = measured.ageMs;
  const shown = formatDuration(Math.max(0, age));
  const result = { ...base(check), actual: age / 1000, expected };
  if (check.failAfterMs !== undefined && age > check.failAfterMs) {
    return {
      ...result,
      outcome: 'fail',
      message: `${label} is ${shown}, above the fail threshold ${formatDuration(check.failAfterMs)}`,
    };
  }
  if (check.warnAfterMs !== undefined && age > check.warnAfterMs) {
    return {
      ...result,
      outcome: 'warn',
      message: `${label} is ${shown}, above the warn threshold ${formatDuration(check.warnAfterMs)}`,
    };
  }
  const lowest =
    check.warnAfterMs !== undefined ? ['warn', check.warnAfterMs] : ['fail', check.failAfterMs ?? 0];
  return {
    ...result,
    outcome: 'pass',
    message: `${label} is ${shown}, within the ${lowest[0]} threshold ${formatDuration(Number(lowest[1]))}`,
  };
}

/** `pii_*` → /^pii_.*$/ (only `*` is special). */
function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/** Problems of one schema rule level, in a fixed order: missing, types, forbidden, index. */
export function schemaProblems(rules: SchemaRules, columns: readonly ColumnInfo[]): string[] {
  const byName = new Map(columns.map((c, i) => [c.name, { ...c, index: i }]));
  const problems: string[] = [];
  const missing = rules.requiredColumns.filter((c) => !byName.has(c));
  if (missing.length > 0) {
    problems.push(
      `${plural(missing.length, 'required column missing', 'required columns missing')}: ${missing.join(', ')}`,
    );
  }
  for (const [name, type] of Object.entries(rules.columnTypes)) {
    const column = byName.get(name);
    if (!column) problems.push(`column ${name} is missing, expected type ${type}`);
    else if (normalizeColumnType(column.type) !== normalizeColumnType(type)) {
      problems.push(`column ${name} has type ${column.type}, expected ${type}`);
    }
  }
  const forbidden = columns
    .filter((c) => rules.forbiddenColumns.some((p) => wildcard(p).test(c.name)))
    .map((c) => c.name);
  if (forbidden.length > 0) {
    problems.push(
      `${plural(forbidden.length, 'forbidden column present', 'forbidden columns present')}: ${forbidden.join(', ')}`,
    );
  }
  for (const [name, index] of Object.entries(rules.columnIndexes)) {
    const column = byName.get(name);
    if (!column) problems.push(`column ${name} is missing, expected at index ${index}`);
    else if (column.index !== index)
      problems.push(`column ${name} is at index ${column.index}, expected ${index}`);
  }
  return problems;
}

function evaluateSchema(check: SchemaCheck, m: Measurements): CheckResult {
  const failures = schemaProblems(check.fail, m.columns);
  const warnings = schemaProblems(check.warn, m.columns);
  const details = { failures, warnings, columns: m.columns.length };
  if (failures.length > 0) {
    const also = warnings.length > 0 ? `; warnings: ${warnings.join('; ')}` : '';
    return { ...base(check), outcome: 'fail', message: `${failures.join('; ')}${also}`, details };
  }
  if (warnings.length > 0) return { ...base(check), outcome: 'warn', message: warnings.join('; '), details };
  return {
    ...base(check),
    outcome: 'pass',
    message: `schema as expected (${m.columns.length} ${plural(m.columns.length, 'column', 'columns')})`,
    details,
  };
}

/**
 * Evaluates one check. `history` holds earlier results of the same check, newest first; only row-count
 * change checks use it ("vs previous" = the first entry, "vs avg_n" = mean of up to the first n).
 */
export function evaluateCheck(
  check: Check,
  measurements: Measurements,
  history: readonly PreviousResult[] = [],
): CheckResult {
  switch (check.kind) {
    case 'row_count':
      return evaluateRowCount(check, measurements);
    case 'row_count_change':
      return evaluateRowCountChange(check, measurements, history);
    case 'freshness':
      return evaluateFreshness(check, measurements);
    case 'schema':
      return evaluateSchema(check, measurements);
  }
}

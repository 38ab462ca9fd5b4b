/**
 * The data-quality check language: a SodaCL-like subset (reference/external-apis.md §7) parsed into a
 * typed AST. Pure and workflow-safe. Evaluation lives in data-quality-results.ts.
 */
import { z } from 'zod';
import { formatDuration } from './duration';

export const COMPARE_OPS = ['>', '>=', '<', '<=', '=', '!='] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

/** A condition on a number: a comparison, or a (not) between range (inclusive unless written `(lo and hi)`). */
export type NumericCondition =
  | { op: CompareOp; value: number }
  | { op: 'between' | 'not between'; min: number; max: number; inclusive: boolean };

/** Fields every check carries. */
interface CheckBase {
  /**
   * Stable identifier within the check set (canonical text): results and history are keyed by it. For
   * row-count change checks it leaves out the threshold, so tuning the threshold keeps the history.
   */
  id: string;
  /** The check as written in the YAML (the key, for mapping forms). */
  name: string;
}

/** `row_count > 0`, `row_count between 1000 and 5000`, `row_count not between (0 and 10)`. */
export interface RowCountCheck extends CheckBase {
  kind: 'row_count';
  condition: NumericCondition;
}

/** What a row-count change is measured against: the last stored row count, or the mean of the last n. */
export type ChangeBaseline = 'previous' | { avg: number };

/** `row_count change < 10% vs previous` or `… vs avg_7`: the absolute relative change must stay below. */
export interface RowCountChangeCheck extends CheckBase {
  kind: 'row_count_change';
  maxPct: number;
  /** True for `<=`. */
  inclusive: boolean;
  baseline: ChangeBaseline;
}

/** `freshness(col) < 2h` (fail only) or the mapping form with `warn: when > 1h` / `fail: when > 6h`. */
export interface FreshnessCheck extends CheckBase {
  kind: 'freshness';
  column: string;
  /** The check warns when the age is above this many milliseconds. */
  warnAfterMs?: number;
  /** The check fails when the age is above this many milliseconds. */
  failAfterMs?: number;
}

/** One level (warn or fail) of a schema check. Types are normalised (see {@link normalizeColumnType}). */
export interface SchemaRules {
  requiredColumns: string[];
  columnTypes: Record<string, string>;
  /** Column names or patterns with `*` wildcards. */
  forbiddenColumns: string[];
  /** Zero-based position among the table's columns. */
  columnIndexes: Record<string, number>;
}

/** `schema:` with `fail:` and/or `warn:` rule levels. */
export interface SchemaCheck extends CheckBase {
  kind: 'schema';
  fail: SchemaRules;
  warn: SchemaRules;
}

export type Check = RowCountCheck | RowCountChangeCheck | FreshnessCheck | SchemaCheck;

/** A problem found while parsing a check entry; `path` is relative to the entry. */
export interface CheckParseIssue {
  path: (string | number)[];
  message: string;
}

// ---- durations and numbers -------------------------------------------------------------------------------

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * Parses a check duration such as `2h`, `45m` or `1d6h30m` (units d, h, m, s, largest first) into
 * milliseconds; undefined when malformed or zero.
 */
export function parseCheckDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === '') return undefined;
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  const ms = ((d * 24 + h) * 60 + min) * 60_000 + s * 1000;
  return ms > 0 ? ms : undefined;
}

const durationHint = (text: string): string =>
  `invalid duration "${text}": use units d, h, m, s such as "2h" or "1d6h30m"`;

/** A check duration string, validated by {@link parseCheckDuration}. */
export const CheckDuration = z
  .string()
  .refine(
    (v) => parseCheckDuration(v) !== undefined,
    'must be a duration such as "2h" or "1d6h30m" (units d, h, m, s)',
  );

const INTEGER = String.raw`(\d+(?:_\d+)*)`;

function parseInteger(text: string): number | undefined {
  const n = Number(text.replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : undefined;
}

// ---- identifiers -----------------------------------------------------------------------------------------

const IDENT = String.raw`([A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")`;
const SIMPLE_IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** The name inside an identifier token: `"Odd ""x"""` → `Odd "x"`; a bare name is taken as written. */
export function unquoteIdentifier(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replace(/""/g, '"') : token;
}

/** Writes a name so that the check language reads it back: bare when simple, else double-quoted. */
export function displayIdentifier(name: string): string {
  return SIMPLE_IDENT.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

// ---- column types ----------------------------------------------------------------------------------------

const TYPE_ALIASES: Readonly<Record<string, string>> = {
  int: 'integer',
  int4: 'integer',
  serial: 'integer',
  serial4: 'integer',
  int8: 'bigint',
  bigserial: 'bigint',
  serial8: 'bigint',
  int2: 'smallint',
  smallserial: 'smallint',
  varchar: 'character varying',
  char: 'character',
  bpchar: 'character',
  bool: 'boolean',
  float8: 'double precision',
  double: 'double precision',
  float4: 'real',
  float: 'double precision',
  decimal: 'numeric',
  timestamptz: 'timestamp with time zone',
  timestamp: 'timestamp without time zone',
  timetz: 'time with time zone',
  time: 'time without time zone',
};

/**
 * Normalises a PostgreSQL type name to `information_schema.columns.data_type` spelling, so `int4`,
 * `int` and `integer` compare equal (`timestamptz` → `timestamp with time zone`, `varchar` →
 * `character varying`, `text[]` stays an array of the normalised element type). Case-insensitive.
 */
export function normalizeColumnType(type: string): string {
  const lower = type.trim().toLowerCase().replace(/\s+/g, ' ');
  if (lower.endsWith('[]')) return `${normalizeColumnType(lower.slice(0, -2))}[]`;
  return TYPE_ALIASES[lower] ?? lower;
}

// ---- string checks ---------------------------------------------------------------------------------------

const ROW_COUNT_COMPARE = new RegExp(String.raw`^row_count\s*(>=|<=|!=|=|>|<)\s*${INTEGER}$`);
const ROW_COUNT_BETWEEN = new RegExp(
  String.raw`^row_count\s+(not\s+)?between\s+(\(\s*)?${INTEGER}\s+and\s+${INTEGER}(\s*\))?$`,
);
const ROW_COUNT_CHANGE =
  /^row_count\s+change\s*(<=|<)\s*(\d+(?:\.\d+)?)\s*%(?:\s+vs\s+(previous|avg_(\d+)))?$/;
const FRESHNESS = new RegExp(String.raw`^freshness\(\s*${IDENT}\s*\)\s*<\s*(\S+)$`);
const FRESHNESS_KEY = new RegExp(String.raw`^freshness\(\s*${IDENT}\s*\)$`);

const cannotParse = (text: string, reason: string): string => `cannot parse "${text}": ${reason}`;

/** Canonical text of a numeric condition, e.g. `between 1000 and 5000`, `between (1 and 5)`, `> 0`. */
export function describeCondition(condition: NumericCondition): string {
  if (!('value' in condition)) {
    const range = condition.inclusive
      ? `${condition.min} and ${condition.max}`
      : `(${condition.min} and ${condition.max})`;
    return `${condition.op} ${range}`;
  }
  return `${condition.op} ${condition.value}`;
}

/** Canonical text of a change baseline: `previous` or `avg_7`. */
export function describeBaseline(baseline: ChangeBaseline): string {
  return baseline === 'previous' ? 'previous' : `avg_${baseline.avg}`;
}

function parseRowCount(text: string): RowCountCheck | string {
  const compare = ROW_COUNT_COMPARE.exec(text);
  if (compare) {
    const value = parseInteger(compare[2] ?? '');
    if (value === undefined) return cannotParse(text, `${compare[2]} is too large`);
    const condition: NumericCondition = { op: compare[1] as CompareOp, value };
    return { kind: 'row_count', id: `row_count ${describeCondition(condition)}`, name: text, condition };
  }
  const between = ROW_COUNT_BETWEEN.exec(text);
  if (between) {
    const [, not, open, lo = '', hi = '', close] = between;
    if (Boolean(open) !== Boolean(close)) {
      return cannotParse(text, 'unbalanced parentheses: write "(lo and hi)" to exclude both ends');
    }
    const min = parseInteger(lo);
    const max = parseInteger(hi);
    if (min === undefined || max === undefined) return cannotParse(text, 'a bound is too large');
    if (min > max) return cannotParse(text, `lower bound ${min} is above upper bound ${max}`);
    const condition: NumericCondition = {
      op: not ? 'not between' : 'between',
      min,
      max,
      inclusive: !open,
    };
    return { kind: 'row_count', id: `row_count ${describeCondition(condition)}`, name: text, condition };
  }
  return cannotParse(text, 'expected a comparison such as "row_count > 0"');
}

function parseRowCountChange(text: string): RowCountChangeCheck | string {
  const m = ROW_COUNT_CHANGE.exec(text);
  if (!m) {
    return cannotParse(text, 'expected "row_count change < 10% vs previous" (or "vs avg_7")');
  }
  const maxPct = Number(m[2]);
  let baseline: ChangeBaseline = 'previous';
  if (m[4] !== undefined) {
    const n = Number(m[4]);
    if (n < 1 || n > 1000) return cannotParse(text, 'avg_n needs n between 1 and 1000');
    baseline = { avg: n };
  }
  return {
    kind: 'row_count_change',
    id: `row_count change vs ${describeBaseline(baseline)}`,
    name: text,
    maxPct,
    inclusive: m[1] === '<=',
    baseline,
  };
}

function parseFreshness(text: string): FreshnessCheck | string {
  const m = FRESHNESS.exec(text);
  if (!m) {
    return cannotParse(text, 'expected "freshness(column) < duration" such as "freshness(updated_at) < 2h"');
  }
  const failAfterMs = parseCheckDuration(m[2] ?? '');
  if (failAfterMs === undefined) return cannotParse(text, durationHint(m[2] ?? ''));
  const column = unquoteIdentifier(m[1] ?? '');
  return {
    kind: 'freshness',
    id: `freshness(${displayIdentifier(column)}) < ${formatDuration(failAfterMs)}`,
    name: text,
    column,
    failAfterMs,
  };
}

/** Parses one check written as a string (row_count, row_count change, freshness). */
export function parseCheckString(raw: string): Check | string {
  const text = raw.trim().replace(/\s+/g, ' ');
  const parsed = /^row_count\s+change\b/.test(text)
    ? parseRowCountChange(text)
    : /^row_count\b/.test(text)
      ? parseRowCount(text)
      : /^freshness\b/.test(text)
        ? parseFreshness(text)
        : undefined;
  if (typeof parsed === 'object') return { ...parsed, name: raw.trim() };
  if (parsed !== undefined) return parsed;
  if (text === 'schema')
    return cannotParse(text, 'a schema check is a mapping: "schema:" with fail/warn rules');
  return cannotParse(text, 'expected a check on row_count, row_count change, freshness(column) or schema');
}

// ---- mapping checks --------------------------------------------------------------------------------------

const WHEN_ABOVE = z.string().transform((value, ctx) => {
  const m = /^when\s*>\s*(\S+)$/.exec(value.trim());
  const ms = m ? parseCheckDuration(m[1] ?? '') : undefined;
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `cannot parse "${value}": expected "when > 1h"` });
    return z.NEVER;
  }
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `cannot parse "${value}": ${durationHint(m[1] ?? '')}` });
    return z.NEVER;
  }
  return ms;
});

const FreshnessLevels = z
  .strictObject({ warn: WHEN_ABOVE.optional(), fail: WHEN_ABOVE.optional() })
  .superRefine((levels, ctx) => {
    if (levels.warn === undefined && levels.fail === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs "warn: when > …" and/or "fail: when > …"' });
    } else if (levels.warn !== undefined && levels.fail !== undefined && levels.warn >= levels.fail) {
      ctx.addIssue({
        code: 'custom',
        path: ['warn'],
        message: `the warn threshold ${formatDuration(levels.warn)} must be below the fail threshold ${formatDuration(levels.fail)}`,
      });
    }
  });

const ColumnName = z.string().min(1, 'must be a column name');
const ColumnType = z
  .string()
  .min(1)
  .refine(
    (t) => !t.includes('('),
    'type modifiers are not compared: write the base type, e.g. "character varying"',
  );

const SchemaLevel = z
  .strictObject({
    'when required column missing': z.array(ColumnName).min(1).optional(),
    'when wrong column type': z.record(ColumnName, ColumnType).optional(),
    'when forbidden column present': z.array(ColumnName).min(1).optional(),
    'when wrong column index': z.record(ColumnName, z.number().int().min(0)).optional(),
  })
  .refine((level) => Object.values(level).some((v) => v !== undefined), {
    message: 'needs at least one "when …" rule',
    // An unknown rule name is already reported; do not also call the level empty.
    when: (payload) => payload.issues.length === 0,
  });

const SchemaLevels = z
  .strictObject({ fail: SchemaLevel.optional(), warn: SchemaLevel.optional() })
  .refine((s) => s.fail !== undefined || s.warn !== undefined, 'needs "fail:" and/or "warn:" rules');

function schemaRules(level: z.infer<typeof SchemaLevel> | undefined): SchemaRules {
  const types: Record<string, string> = {};
  for (const [column, type] of Object.entries(level?.['when wrong column type'] ?? {})) {
    types[column] = normalizeColumnType(type);
  }
  return {
    requiredColumns: level?.['when required column missing'] ?? [],
    columnTypes: types,
    forbiddenColumns: level?.['when forbidden column present'] ?? [],
    columnIndexes: { ...(level?.['when wrong column index'] ?? {}) },
  };
}

function zodIssues(key: string, error: z.ZodError): CheckParseIssue[] {
  return error.issues.map((i) => ({
    path: [key, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: i.message,
  }));
}

function parseCheckMapping(entry: Record<string, unknown>): Check | CheckParseIssue[] {
  const keys = Object.keys(entry);
  const key = keys[0];
  if (keys.length !== 1 || key === undefined) {
    return [
      {
        path: [],
        message: `a check mapping has exactly one key (freshness(column) or schema), got ${keys.length === 0 ? 'none' : keys.join(', ')}`,
      },
    ];
  }
  const value = entry[key];
  const name = key.trim();
  if (name === 'schema') {
    const parsed = SchemaLevels.safeParse(value);
    if (!parsed.success) return zodIssues(key, parsed.error);
    return {
      kind: 'schema',
      id: 'schema',
      name,
      fail: schemaRules(parsed.data.fail),
      warn: schemaRules(parsed.data.warn),
    };
  }
  const fresh = FRESHNESS_KEY.exec(name);
  if (fresh) {
    const parsed = FreshnessLevels.safeParse(value);
    if (!parsed.success) return zodIssues(key, parsed.error);
    const column = unquoteIdentifier(fresh[1] ?? '');
    const { warn, fail } = parsed.data;
    const levels = [
      warn === undefined ? '' : ` warn > ${formatDuration(warn)}`,
      fail === undefined ? '' : ` fail > ${formatDuration(fail)}`,
    ];
    return {
      kind: 'freshness',
      id: `freshness(${displayIdentifier(column)})${levels.join('')}`,
      name,
      column,
      ...(warn === undefined ? {} : { warnAfterMs: warn }),
      ...(fail === undefined ? {} : { failAfterMs: fail }),
    };
  }
  return [
    { path: [], message: `unknown check "${name}": a check mapping is "freshness(column):" or "schema:"` },
  ];
}

/**
 * Parses one entry of a check set's `checks:` list: a string such as `row_count > 0`, or a one-key mapping
 * (`freshness(col):` with warn/fail, `schema:` with fail/warn rules). Returns the check, or the issues
 * (paths relative to the entry).
 */
export function parseCheckEntry(entry: string | Record<string, unknown>): Check | CheckParseIssue[] {
  if (typeof entry === 'string') {
    const parsed = parseCheckString(entry);
    return typeof parsed === 'string' ? [{ path: [], message: parsed }] : parsed;
  }
  return parseCheckMapping(entry);
}

/** A `checks:` list entry: validated and parsed into a {@link Check}. */
export const CheckEntry = z
  .union([z.string(), z.record(z.string(), z.unknown())], {
    error: 'expected a check such as "row_count > 0" or a mapping "freshness(column):" / "schema:"',
  })
  .transform((entry, ctx): Check => {
    const parsed = parseCheckEntry(entry);
    if (!Array.isArray(parsed)) return parsed;
    for (const issue of parsed) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  })
  .describe(
    'A check: "row_count > 0", "row_count between 1000 and 5000", "row_count change < 10% vs previous", ' +
      '"freshness(updated_at) < 2h", or a mapping "freshness(col): {warn: when > 1h, fail: when > 6h}" / ' +
      '"schema: {fail: {when required column missing: [id]}}"',
  );

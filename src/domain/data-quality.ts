/**
 * Data-quality check sets (`config/checks/<name>.yaml`): which table to check, how often, who owns it,
 * and the checks (freshness, schema, volume) in a SodaCL-like language. Pure and workflow-safe. The
 * check language is in data-quality-checks.ts, evaluation in data-quality-results.ts; both are re-exported.
 */
import { z } from 'zod';
import { CronExpression } from './cron';
import {
  type Check,
  CheckDuration,
  CheckEntry,
  displayIdentifier,
  parseCheckDuration,
} from './data-quality-checks';
import {
  type CheckResult,
  type Measurements,
  type Outcome,
  type PreviousResult,
  evaluateCheck,
  worstOutcome,
} from './data-quality-results';
import { Severity } from './severity';

export * from './data-quality-checks';
export * from './data-quality-results';

/** A table, by exact (case-sensitive) schema and table name. */
export interface TableRef {
  schema: string;
  name: string;
}

const NAME_PART = String.raw`"(?:[^"]|"")+"|[^."\s](?:[^."]*[^."\s])?`;
const TABLE_NAME = new RegExp(`^(${NAME_PART})(?:\\.(${NAME_PART}))?$`);

const unquote = (part: string): string =>
  part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part;

/**
 * Parses `schema.table` or `table` (schema `public`). Names are exact and case-sensitive; a part that
 * contains a dot or a double quote is written in double quotes with `""` for a quote:
 * `analytics."Daily ""raw"" Orders"`. Returns undefined when malformed.
 */
export function parseTableName(text: string): TableRef | undefined {
  const m = TABLE_NAME.exec(text.trim());
  if (!m) return undefined;
  return m[2] === undefined
    ? { schema: 'public', name: unquote(m[1] ?? '') }
    : { schema: unquote(m[1] ?? ''), name: unquote(m[2]) };
}

/** `schema.table` for people and messages, quoting a part only when needed to read it back. */
export function formatTableName(table: TableRef): string {
  return `${displayIdentifier(table.schema)}.${displayIdentifier(table.name)}`;
}

const FILTER_OPS = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'is null', 'is not null'] as const;
const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * One predicate of a check set's `where:` filter, ANDed with the others. Never raw SQL: the column is
 * quoted as an identifier and `value` is passed as a query parameter. `ago: 1d` compares with the scan
 * time minus that duration (for `created_at > now() - 1 day`).
 */
export const RowFilter = z
  .strictObject({
    column: z.string().min(1),
    op: z.enum(FILTER_OPS),
    value: z.union([Scalar, z.array(Scalar).min(1)]).optional(),
    ago: CheckDuration.optional(),
  })
  .superRefine((f, ctx) => {
    const issue = (message: string, path: string): void => {
      ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (f.op === 'is null' || f.op === 'is not null') {
      if (f.value !== undefined || f.ago !== undefined) issue(`"${f.op}" takes no value`, 'op');
    } else if (f.op === 'in' || f.op === 'not in') {
      if (!Array.isArray(f.value)) issue(`"${f.op}" needs a list value`, 'value');
    } else if ((f.value === undefined) === (f.ago === undefined)) {
      issue('needs exactly one of "value" or "ago"', 'value');
    } else if (Array.isArray(f.value)) {
      issue(`"${f.op}" needs a single value, not a list`, 'value');
    }
  });
export type RowFilter = z.infer<typeof RowFilter>;

/** Milliseconds of a filter's `ago`, when it has one. */
export function filterAgoMs(filter: RowFilter): number | undefined {
  return filter.ago === undefined ? undefined : parseCheckDuration(filter.ago);
}

const Owner = z
  .strictObject({ person: z.string().min(1).optional(), slack_channel: z.string().min(1).optional() })
  .refine(
    (o) => (o.person === undefined) !== (o.slack_channel === undefined),
    'needs exactly one of "person" or "slack_channel"',
  );

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const DagId = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be an Airflow DAG id');

/** A check set file: one table, its checks, schedule, owners and the incident a failure opens. */
export const CheckSet = z
  .strictObject({
    /** Equals the file name (without `.yaml`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be letters, digits, "_" or "-"'),
    description: z.string().optional(),
    data_source: z.strictObject({
      /** Name of the environment variable holding the PostgreSQL connection string (never the string itself). */
      connection_env: EnvName.describe(
        'Name of the environment variable holding the PostgreSQL connection string',
      ),
    }),
    table: z
      .string()
      .transform((text, ctx): TableRef => {
        const table = parseTableName(text);
        if (table) return table;
        ctx.addIssue({
          code: 'custom',
          message:
            'must be "schema.table" or "table"; double-quote a part containing "." or \'"\' ("a""b" for a quote)',
        });
        return z.NEVER;
      })
      .describe('"schema.table" or "table" (schema public); exact, case-sensitive names'),
    /** Cron expression (5 fields or a macro such as `@hourly`) for the Temporal Schedule. */
    schedule: CronExpression.describe('Cron expression (5 fields) or a macro such as "@hourly"'),
    owners: z.array(Owner).default([]),
    /** The DAG that produces the table. */
    dag_id: DagId.optional(),
    /** DAGs that consume the table (paused while the data is bad). */
    downstream_dags: z.array(DagId).default([]),
    /** Also discover consumers through Airflow datasets produced by `dag_id`. */
    downstream_from_datasets: z.boolean().default(false),
    /** Severity of the incident a failure opens. */
    severity: Severity.default('P1'),
    /** Rows the row-count and freshness checks look at (all rows when absent). */
    where: z
      .array(RowFilter)
      .default([])
      .describe('Filter for row-count and freshness checks: [{column, op, value | ago}], ANDed'),
    checks: z.array(CheckEntry).min(1, 'needs at least one check'),
  })
  .superRefine((set, ctx) => {
    const seen = new Map<string, number>();
    set.checks.forEach((check, i) => {
      const first = seen.get(check.id);
      if (first === undefined) seen.set(check.id, i);
      else {
        ctx.addIssue({
          code: 'custom',
          path: ['checks', i],
          message: `duplicate check "${check.id}" (same as checks.${first})`,
        });
      }
    });
  });
export type CheckSet = z.infer<typeof CheckSet>;

/** What a check set needs measured. */
export interface MeasurementPlan {
  rowCount: boolean;
  /** Distinct columns of freshness checks, in check order. */
  freshnessColumns: string[];
}

/** The measurements a check set's checks need (schema columns are always read). */
export function planMeasurements(checks: readonly Check[]): MeasurementPlan {
  const freshness = new Set<string>();
  let rowCount = false;
  for (const check of checks) {
    if (check.kind === 'row_count' || check.kind === 'row_count_change') rowCount = true;
    if (check.kind === 'freshness') freshness.add(check.column);
  }
  return { rowCount, freshnessColumns: [...freshness] };
}

/** Why a whole check set could not run. */
export const CHECK_SET_ERROR_KINDS = [
  /** The connection variable is not set. */
  'not_configured',
  /** Connection refused, host unknown, network timeout. */
  'unreachable',
  'auth_failed',
  'database_missing',
  'table_missing',
  'permission_denied',
  /** A statement ran longer than the statement timeout. */
  'timeout',
  /** Something tried to write inside the read-only transaction. */
  'read_only_violation',
  'query_failed',
] as const;
export type CheckSetErrorKind = (typeof CHECK_SET_ERROR_KINDS)[number];

export interface CheckSetError {
  kind: CheckSetErrorKind;
  /** For people; never contains the connection string or a password. */
  message: string;
}

/** What measuring a check set produced: measurements, or why it could not run. */
export type MeasurementOutcome =
  { ok: true; measurements: Measurements } | { ok: false; error: CheckSetError };

/**
 * Result of one run of a check set. `outcome` is the worst check outcome (pass < warn < error < fail), or
 * `error` with `error` set when the set could not run at all (then every check is `error` too).
 */
export interface CheckSetResult {
  checkSet: string;
  runKey: string;
  /** `schema.table`. */
  table: string;
  startedAt: string;
  finishedAt: string;
  outcome: Outcome;
  error?: CheckSetError;
  results: CheckResult[];
}

/** Identifies a run: its idempotency key and when it measured. */
export interface CheckSetRun {
  runKey: string;
  startedAt: string;
  finishedAt: string;
}

/**
 * Evaluates every check of a set. `history` maps a check id to its earlier results (newest first), used
 * by row-count change checks.
 */
export function evaluateCheckSet(
  checkSet: Pick<CheckSet, 'name' | 'table' | 'checks'>,
  measured: MeasurementOutcome,
  history: Readonly<Record<string, readonly PreviousResult[]>>,
  run: CheckSetRun,
): CheckSetResult {
  const common = { checkSet: checkSet.name, ...run, table: formatTableName(checkSet.table) };
  if (!measured.ok) {
    return {
      ...common,
      outcome: 'error',
      error: measured.error,
      results: checkSet.checks.map((c) => ({
        checkId: c.id,
        name: c.name,
        outcome: 'error',
        message: `not run: ${measured.error.message}`,
      })),
    };
  }
  const results = checkSet.checks.map((c) => evaluateCheck(c, measured.measurements, history[c.id] ?? []));
  return { ...common, outcome: worstOutcome(results.map((r) => r.outcome)), results };
}

/**
 * One line for incident titles and Slack: the set, the table, how many checks went wrong and the first
 * finding, e.g. `customers_daily on public.customers: 1 of 4 checks failed: row_count 850000 is not between 1000000 and 1500000`.
 */
export function summarizeCheckSetResult(result: CheckSetResult): string {
  const head = `${result.checkSet} on ${result.table}`;
  if (result.error) return `${head}: could not run: ${result.error.message}`;
  const total = result.results.length;
  const verb: Record<Outcome, string> = {
    pass: 'passed',
    warn: 'warned',
    error: 'could not run',
    fail: 'failed',
  };
  if (result.outcome === 'pass') return `${head}: all ${total} ${total === 1 ? 'check' : 'checks'} passed`;
  const bad = result.results.filter((r) => r.outcome === result.outcome);
  return `${head}: ${bad.length} of ${total} ${total === 1 ? 'check' : 'checks'} ${verb[result.outcome]}: ${bad[0]?.message ?? ''}`;
}

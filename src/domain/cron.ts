import { z } from 'zod';

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function fieldValue(field: CronField, text: string): number | string {
  const upper = text.toUpperCase();
  const named = field.names?.indexOf(upper) ?? -1;
  if (named >= 0) return field.min + named;
  if (!/^\d+$/.test(text)) return `${field.name} "${text}" is not a number`;
  const n = Number(text);
  if (n < field.min || n > field.max) {
    return `${field.name} "${text}" is out of range ${field.min}-${field.max}`;
  }
  return n;
}

function fieldProblem(field: CronField, text: string): string | undefined {
  for (const item of text.split(',')) {
    const [range = '', step, extra] = item.split('/');
    if (extra !== undefined || range === '') return `${field.name} "${text}" is malformed`;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) {
      return `${field.name} step "${step}" must be a positive number`;
    }
    if (range === '*') continue;
    const [from = '', to, more] = range.split('-');
    if (more !== undefined) return `${field.name} "${item}" is malformed`;
    const lo = fieldValue(field, from);
    if (typeof lo === 'string') return lo;
    if (to === undefined) continue;
    const hi = fieldValue(field, to);
    if (typeof hi === 'string') return hi;
    if (lo > hi) return `${field.name} range "${range}" runs backwards`;
  }
  return undefined;
}

/**
 * Checks a standard 5-field cron expression (minute hour day-of-month month day-of-week; `*`, lists,
 * ranges, steps, month and weekday names) or a macro such as `@hourly`, as Temporal Schedules accept them.
 * Returns the first problem, or undefined when the expression is valid.
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    return MACROS.has(trimmed) ? undefined : `unknown cron macro "${trimmed}"`;
  }
  const parts = trimmed.split(/\s+/).filter((p) => p !== '');
  if (parts.length !== FIELDS.length) {
    return `must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  for (const [i, field] of FIELDS.entries()) {
    const problem = fieldProblem(field, parts[i] ?? '');
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A cron expression validated by {@link cronProblem}. */
export const CronExpression = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
export type CronExpression = z.infer<typeof CronExpression>;

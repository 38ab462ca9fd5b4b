import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

/** One problem in a config file, printed as `file:path: message`. */
export interface ConfigProblem {
  file: string;
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return p.path === '' ? `${p.file}: ${p.message}` : `${p.file}:${p.path}: ${p.message}`;
}

/** Thrown when configuration is invalid; `problems` lists every issue found. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Display name of a file: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/** Converts zod issues into problems for `file`. */
export function zodProblems(file: string, error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({
    file: displayPath(file),
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Reads and validates one YAML file. Returns the parsed value, or the problems found (YAML syntax errors
 * with their line and column, then schema issues with their paths).
 */
export function readYamlFile<S extends z.ZodType>(
  file: string,
  schema: S,
  options: { optional?: boolean; fallback?: unknown } = {},
): { value?: z.infer<S>; problems: ConfigProblem[] } {
  const shown = displayPath(file);
  if (!existsSync(file)) {
    if (options.optional) {
      const parsed = schema.safeParse(options.fallback ?? {});
      return parsed.success
        ? { value: parsed.data, problems: [] }
        : { problems: zodProblems(file, parsed.error) };
    }
    return { problems: [{ file: shown, path: '', message: 'file not found' }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), {
    prettyErrors: false,
    uniqueKeys: true,
    lineCounter,
  });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          file: shown,
          path: '',
          message: `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${e.message.split('\n')[0]}`,
        };
      }),
    };
  }
  const parsed = schema.safeParse(doc.toJS() ?? {});
  return parsed.success
    ? { value: parsed.data, problems: [] }
    : { problems: zodProblems(file, parsed.error) };
}

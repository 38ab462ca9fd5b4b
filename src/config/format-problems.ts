import { type ConfigProblem, formatProblem } from './yaml-file';

/**
 * Config problems as printed by `npm run config:check`: one `file:path: message` per line, grouped by file
 * (sorted by name), keeping each file's order (loaders report problems in document order).
 */
export function printProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 : a.i - b.i))
    .map(({ p }) => formatProblem(p))
    .join('\n');
}

/** The chaos results as a table (runbook × step rows, kill point columns) and as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult, KillPoint } from './driver';

const COLUMNS: readonly KillPoint[] = ['none', 'before', 'during', 'after', 'server_restart'];

export function formatTable(results: readonly CellResult[]): string {
  const rows = new Map<string, Map<KillPoint, CellResult>>();
  for (const r of results) {
    const key = `${r.runbook} / ${r.step}`;
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(r.point, r);
  }
  const width = Math.max(20, ...[...rows.keys()].map((k) => k.length));
  const cell = (r: CellResult | undefined) => (r ? `${r.ok ? 'ok' : 'FAILED'} ${r.seconds}s` : '-');
  const lines = [
    [`${'runbook / step'.padEnd(width)}`, ...COLUMNS.map((c) => c.padEnd(14))].join(' | '),
    '-'.repeat(width + COLUMNS.length * 17),
  ];
  for (const [key, byPoint] of rows)
    lines.push([key.padEnd(width), ...COLUMNS.map((c) => cell(byPoint.get(c)).padEnd(14))].join(' | '));
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    lines.push('', 'Failures:');
    for (const r of failed) lines.push(`- ${r.runbook}/${r.step}/${r.point}: ${r.problems.join('; ')}`);
  }
  return lines.join('\n');
}

/** Writes the results to `<dir>/chaos-<mode>.json`; returns the file. */
export function writeResults(
  dir: string,
  mode: string,
  results: readonly CellResult[],
  seconds: number,
): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chaos-${mode}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ mode, finishedAt: new Date().toISOString(), seconds, results }, null, 2)}\n`,
  );
  return file;
}

import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckSet } from '../domain/data-quality';
import { type ConfigProblem, displayPath, readYamlFile } from './yaml-file';

/**
 * Loads the data-quality check sets in `<dir>/checks/*.yaml`, one set per file, keyed by name. A set's
 * `name` must equal its file name. No `checks/` folder means no check sets. Returns every problem found
 * (`value` is set only when there are none).
 */
export function loadCheckSets(dir: string): {
  value?: Record<string, CheckSet>;
  problems: ConfigProblem[];
} {
  const folder = join(dir, 'checks');
  if (!existsSync(folder)) return { value: {}, problems: [] };
  const problems: ConfigProblem[] = [];
  const sets: Record<string, CheckSet> = {};
  const files = readdirSync(folder)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const file of files) {
    const path = join(folder, file);
    const { value, problems: found } = readYamlFile(path, CheckSet);
    problems.push(...found);
    if (!value) continue;
    const expected = basename(file, '.yaml');
    if (value.name !== expected) {
      problems.push({
        file: displayPath(path),
        path: 'name',
        message: `must equal the file name "${expected}" (got "${value.name}")`,
      });
      continue;
    }
    sets[value.name] = value;
  }
  return problems.length > 0 ? { problems } : { value: sets, problems };
}

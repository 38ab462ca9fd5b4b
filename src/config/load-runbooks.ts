import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMap, isNode, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { Runbook } from '../domain/runbook';
import { type ConfigProblem, displayPath, readYamlFile } from './yaml-file';

/**
 * Reads and validates one runbook file. With `expectedName` (the loader passes the file name without
 * `.yaml`) the runbook's `name` must equal it. Problems come in document order.
 */
export function loadRunbookFile(
  file: string,
  expectedName?: string,
): { value?: Runbook; problems: ConfigProblem[] } {
  const result = readYamlFile(file, Runbook);
  const problems = [...result.problems];
  if (result.value && expectedName !== undefined && result.value.name !== expectedName) {
    problems.push({
      file: displayPath(file),
      path: 'name',
      message: `must equal the file name "${expectedName}" (found "${result.value.name}")`,
    });
  }
  if (problems.length > 0) return { problems: inDocumentOrder(file, problems) };
  return { value: result.value, problems };
}

/**
 * Loads every `<dir>/runbooks/*.yaml`, keyed by runbook name. `value` is set only when there are no
 * problems; problems are listed file by file (sorted by file name), each in document order. A missing
 * `runbooks/` folder means no runbooks.
 */
export function loadRunbooks(dir: string): { value?: Record<string, Runbook>; problems: ConfigProblem[] } {
  const folder = join(dir, 'runbooks');
  if (!existsSync(folder)) return { value: {}, problems: [] };
  const runbooks: Record<string, Runbook> = {};
  const problems: ConfigProblem[] = [];
  for (const entry of readdirSync(folder).sort()) {
    const file = join(folder, entry);
    if (entry.endsWith('.yml')) {
      problems.push({ file: displayPath(file), path: '', message: 'runbook files must end in .yaml' });
      continue;
    }
    if (!entry.endsWith('.yaml')) continue;
    const loaded = loadRunbookFile(file, basename(entry, '.yaml'));
    problems.push(...loaded.problems);
    if (loaded.value) runbooks[loaded.value.name] = loaded.value;
  }
  return problems.length > 0 ? { problems } : { value: runbooks, problems };
}

/** What runbooks may refer to, from the other config files. */
export interface RunbookReferences {
  /** On-call roles from oncall.yaml (e.g. primary, secondary, team_lead, manager). */
  roles: readonly string[];
  /** People ids from oncall.yaml. */
  people: readonly string[];
  /** Known incident types (e.g. from routing); unchecked when omitted. */
  incidentTypes?: readonly string[];
  /** The config directory passed to {@link loadRunbooks}, to name files in problems; default `config`. */
  dir?: string;
}

/**
 * Cross-checks runbooks against the rest of the configuration: approver and mention roles and people must
 * exist, and (when given) every matched incident type must be known.
 */
export function checkRunbookReferences(
  runbooks: Readonly<Record<string, Runbook>>,
  refs: RunbookReferences,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const roles = new Set(refs.roles);
  const people = new Set(refs.people);
  for (const name of Object.keys(runbooks).sort()) {
    const runbook = runbooks[name];
    if (!runbook) continue;
    const file = displayPath(join(refs.dir ?? 'config', 'runbooks', `${name}.yaml`));
    const add = (path: string, message: string) => problems.push({ file, path, message });
    if (refs.incidentTypes) {
      const known = new Set(refs.incidentTypes);
      runbook.match.incident_types.forEach((type, i) => {
        if (!known.has(type)) {
          add(
            `match.incident_types.${i}`,
            `unknown incident type "${type}" (known: ${[...known].sort().join(', ')})`,
          );
        }
      });
    }
    runbook.steps.forEach((step, i) => {
      const contacts =
        step.type === 'approval'
          ? step.approvers.map((c, j) => [`steps.${i}.approvers.${j}`, c] as const)
          : step.type === 'notify'
            ? step.mention.map((c, j) => [`steps.${i}.mention.${j}`, c] as const)
            : [];
      for (const [path, contact] of contacts) {
        if (contact.role !== undefined && !roles.has(contact.role)) {
          add(`${path}.role`, `unknown role "${contact.role}" (known: ${[...roles].sort().join(', ')})`);
        }
        if (contact.person !== undefined && !people.has(contact.person)) {
          add(`${path}.person`, `unknown person "${contact.person}"`);
        }
      }
    });
  }
  return problems;
}

/**
 * Sorts one file's problems by where their path points in the YAML (the nearest existing node for a
 * missing key); problems without a position keep their order at the top.
 */
function inDocumentOrder(file: string, problems: ConfigProblem[]): ConfigProblem[] {
  let contents: Node | null;
  try {
    contents = parseDocument(readFileSync(file, 'utf8')).contents;
  } catch {
    return problems;
  }
  const offset = (path: string): number => {
    if (path === '') return -1;
    let node: unknown = contents;
    let at = -1;
    for (const key of path.split('.')) {
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
        if (pair && isScalar(pair.key)) at = pair.key.range?.[0] ?? at;
        next = pair?.value;
      } else if (isSeq(node)) next = node.items[Number(key)];
      if (!isNode(next)) break;
      node = next;
      at = next.range?.[0] ?? at;
    }
    return at;
  };
  return problems
    .map((p, i) => ({ p, i, at: offset(p.path) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map(({ p }) => p);
}

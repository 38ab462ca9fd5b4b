/**
 * JSON helpers for the Kubernetes API server double: the three patch formats kubectl sends (JSON Patch,
 * JSON merge patch, strategic merge patch), label and field selectors, and the loose deep equality the
 * deployment controller uses to compare pod templates.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** A patch the server cannot apply; becomes a 422 (or 415 for an unknown content type). */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly code = 422,
  ) {
    super(message);
  }
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return false;
}

/**
 * Deep equality as Kubernetes' semantic DeepEqual sees JSON: key order does not matter, and an absent
 * field equals null, `{}` and `[]`.
 */
export function looseEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => looseEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!looseEqual(a[key], b[key])) return false;
    return true;
  }
  return a === b;
}

/** JSON with sorted keys, for hashing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

// --- RFC 6902 JSON Patch -------------------------------------------------------------------------

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[]): { parent: Json; key: string } {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)] as Json;
    else if (isObject(node)) node = node[token] as Json;
    else node = undefined as unknown as Json;
    if (node === undefined) throw new PatchError(`doc is missing path: ${tokens.join('/')}`);
  }
  return { parent: node, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  let node: Json = doc;
  for (const token of pointer(path)) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(token)]
      : isObject(node)
        ? node[token]
        : undefined;
    if (next === undefined) throw new PatchError(`doc is missing path: ${path}`);
    node = next;
  }
  return node;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, pointer(path));
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!(i >= 0 && i < parent.length)) throw new PatchError(`remove: index out of range: ${path}`);
    return parent.splice(i, 1)[0] as Json;
  }
  if (isObject(parent) && key in parent) {
    const value = parent[key] as Json;
    delete parent[key];
    return value;
  }
  throw new PatchError(`remove operation does not apply: doc is missing path: ${path}`);
}

function addAt(doc: Json, path: string, value: Json): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!(i >= 0 && i <= parent.length)) throw new PatchError(`add: index out of range: ${path}`);
    parent.splice(i, 0, clone(value));
  } else if (isObject(parent)) parent[key] = clone(value);
  else throw new PatchError(`add operation does not apply: doc is missing path: ${path}`);
  return doc;
}

/** Applies an RFC 6902 JSON Patch (the format `kubectl rollout undo` sends). */
export function applyJsonPatch(doc: JsonObject, ops: unknown): JsonObject {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let result: Json = clone(doc);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new PatchError('invalid JSON patch operation');
    }
    const path = op.path;
    switch (op.op) {
      case 'add':
        result = addAt(result, path, op.value as Json);
        break;
      case 'remove':
        removeAt(result, path);
        break;
      case 'replace': {
        if (pointer(path).length === 0) {
          result = clone(op.value as Json);
          break;
        }
        // RFC 6902: the target location must exist for replace.
        getAt(result, path);
        removeAt(result, path);
        result = addAt(result, path, op.value as Json);
        break;
      }
      case 'test':
        if (!looseEqual(getAt(result, path), op.value)) throw new PatchError(`test failed: ${path}`);
        break;
      case 'move':
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError(`${op.op} needs "from"`);
        const value = op.op === 'move' ? removeAt(result, op.from) : clone(getAt(result, op.from));
        result = addAt(result, path, value);
        break;
      }
      default:
        throw new PatchError(`unknown JSON patch operation ${JSON.stringify(op.op)}`);
    }
  }
  if (!isObject(result)) throw new PatchError('the patched document is not an object');
  return result;
}

// --- RFC 7386 JSON merge patch -------------------------------------------------------------------

/** Applies an RFC 7386 JSON merge patch (`kubectl patch --type=merge`, `kubectl scale`). */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key] ?? null, value);
  }
  return result;
}

// --- Strategic merge patch (the subset apps/v1 Deployments need) ---------------------------------

/** Merge keys of the lists of a pod template / deployment that strategic merge patch merges by key. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
};

function mergeList(key: string, target: Json[], patch: Json[]): Json[] {
  const mergeKey = MERGE_KEYS[key];
  if (!mergeKey || !patch.every(isObject))
    return clone(patch).filter((p) => !isObject(p) || !('$patch' in p));
  const result = clone(target);
  for (const item of patch) {
    const id = item[mergeKey];
    const index = result.findIndex((t) => isObject(t) && t[mergeKey] === id);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = strategicMerge(result[index] as Json, item);
    else result.push(strategicMerge({}, item));
  }
  return result;
}

/**
 * Applies a strategic merge patch (kubectl's default `patch` type; `rollout restart`, `set image`): maps
 * merge like JSON merge patch, known lists merge by their key, `$patch: delete|replace` and the
 * `$setElementOrder/…`, `$retainKeys`, `$deleteFromPrimitiveList/…` directives are honoured or ignored.
 */
export function strategicMerge(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return clone(rest);
  }
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else if (Array.isArray(value)) {
      const current = result[key];
      result[key] = mergeList(key, Array.isArray(current) ? current : [], value);
    } else result[key] = strategicMerge(result[key] ?? null, value);
  }
  return result;
}

// --- Selectors -----------------------------------------------------------------------------------

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** Parses a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`). */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p): Requirement => {
      const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(p);
      if (set) {
        const values = set[3]!.split(',').map((v) => v.trim());
        return { op: set[2] as 'in' | 'notin', key: set[1]!, values };
      }
      const neq = /^([^!=]+)!=(.*)$/.exec(p);
      if (neq) return { op: 'neq', key: neq[1]!.trim(), value: neq[2]!.trim() };
      const eq = /^([^!=]+)==?(.*)$/.exec(p);
      if (eq) return { op: 'eq', key: eq[1]!.trim(), value: eq[2]!.trim() };
      if (p.startsWith('!')) return { op: 'notexists', key: p.slice(1).trim() };
      return { op: 'exists', key: p };
    });
}

export function matchesLabels(
  labels: Record<string, string> | undefined,
  selector: string | undefined,
): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return parseLabelSelector(selector).every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq':
        return l[r.key] === r.value;
      case 'neq':
        return l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

/** Matches the field selectors kubectl uses (`metadata.name=x`, `metadata.namespace=y`). */
export function matchesFields(
  meta: { name?: string; namespace?: string },
  selector: string | undefined,
): boolean {
  if (!selector) return true;
  return selector
    .split(',')
    .filter((p) => p !== '')
    .every((p) => {
      const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(p);
      if (!m) return false;
      const field =
        m[1] === 'metadata.name' ? meta.name : m[1] === 'metadata.namespace' ? meta.namespace : undefined;
      return m[2] === '!=' ? field !== m[3] : field === m[3];
    });
}

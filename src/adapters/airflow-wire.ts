/**
 * Airflow REST payloads (v1 = Airflow 2 `/api/v1`, v2 = Airflow 3 `/api/v2`) parsed loosely (Airflow adds
 * fields over time) and normalised to one shape per object, so callers never branch on the version.
 */
import { z } from 'zod';
import { normaliseTaskState, type DagRunState, type TaskState } from '../domain/airflow-state';

const str = z.string().nullable().optional();
const num = z.number().nullable().optional();

export const DagWire = z.looseObject({
  dag_id: z.string(),
  is_paused: z.boolean().nullable().optional(),
  is_active: z.boolean().nullable().optional(),
  description: str,
  fileloc: str,
  owners: z.array(z.string()).nullable().optional(),
  tags: z
    .array(z.looseObject({ name: z.string() }))
    .nullable()
    .optional(),
});
export type DagWire = z.infer<typeof DagWire>;

export const DagRunWire = z.looseObject({
  dag_run_id: z.string(),
  dag_id: z.string(),
  state: str,
  logical_date: str,
  execution_date: str,
  queued_at: str,
  start_date: str,
  end_date: str,
  run_type: str,
  conf: z.record(z.string(), z.unknown()).nullable().optional(),
  note: str,
});
export type DagRunWire = z.infer<typeof DagRunWire>;

export const DagRunCollectionWire = z.looseObject({
  dag_runs: z.array(DagRunWire),
  total_entries: z.number().optional(),
});

export const TaskInstanceWire = z.looseObject({
  task_id: z.string(),
  dag_id: z.string(),
  dag_run_id: z.string().optional(),
  run_id: z.string().optional(),
  map_index: num,
  state: str,
  try_number: num,
  max_tries: num,
  start_date: str,
  end_date: str,
  duration: num,
  hostname: str,
  pool: str,
  operator: str,
});
export type TaskInstanceWire = z.infer<typeof TaskInstanceWire>;

export const TaskInstanceCollectionWire = z.looseObject({
  task_instances: z.array(TaskInstanceWire),
  total_entries: z.number().optional(),
});

/** v1 answers a clear with references (`task_id, dag_id, dag_run_id, execution_date`); v2 with full instances. */
export const ClearResponseWire = z.looseObject({
  task_instances: z.array(
    z.looseObject({
      task_id: z.string(),
      dag_id: z.string(),
      dag_run_id: z.string().optional(),
      run_id: z.string().optional(),
      map_index: num,
      state: str,
    }),
  ),
});

export const PoolWire = z.looseObject({
  name: z.string(),
  slots: z.number(),
  occupied_slots: num,
  running_slots: num,
  queued_slots: num,
  open_slots: num,
  description: str,
});
export type PoolWire = z.infer<typeof PoolWire>;

const DagRefWire = z.looseObject({ dag_id: z.string() });
const TaskRefWire = z.looseObject({ dag_id: z.string(), task_id: z.string() });

/** v1 Dataset / v2 Asset (which adds `name`, `group`, `aliases`). */
export const DatasetWire = z.looseObject({
  id: z.number(),
  uri: z.string(),
  name: str,
  producing_tasks: z.array(TaskRefWire).nullable().optional(),
  consuming_dags: z.array(DagRefWire).nullable().optional(),
  // Some 3.x development builds named the consumers `scheduled_dags`; accept either.
  scheduled_dags: z.array(DagRefWire).nullable().optional(),
});
export type DatasetWire = z.infer<typeof DatasetWire>;

export const TokenWire = z.looseObject({ access_token: z.string().min(1) });

/** v2 structured log lines (`{timestamp, level, event, …}`), plain strings, or v1 `[host, text]` pairs. */
export const LogWire = z.looseObject({
  content: z.union([z.string(), z.array(z.unknown())]),
});

// ---- normalised shapes ----------------------------------------------------------------------------

export interface AirflowDag {
  dagId: string;
  isPaused: boolean;
  /** v1 `is_active`; null on v2 (which reports `is_stale` instead). */
  isActive: boolean | null;
  description: string | null;
  owners: string[];
  tags: string[];
  fileloc: string | null;
}

export interface AirflowDagRun {
  dagId: string;
  dagRunId: string;
  state: DagRunState | null;
  /** Null for v2 manual runs triggered with `logical_date: null`. */
  logicalDate: string | null;
  runType: string | null;
  queuedAt: string | null;
  startDate: string | null;
  endDate: string | null;
  conf: Record<string, unknown>;
  note: string | null;
}

export interface AirflowTaskInstance {
  dagId: string;
  dagRunId: string;
  taskId: string;
  /** -1 for an unmapped task. */
  mapIndex: number;
  state: TaskState | null;
  tryNumber: number;
  maxTries: number | null;
  startDate: string | null;
  endDate: string | null;
  durationSeconds: number | null;
  hostname: string | null;
  pool: string | null;
  operator: string | null;
}

/** One task instance a clear affected (or, in a dry run, would affect). */
export interface ClearedTaskInstance {
  dagId: string;
  dagRunId: string;
  taskId: string;
  /** Null when the server does not say (v1 answers with references only). */
  mapIndex: number | null;
  /** State as reported by the server (v2 only; null on v1). */
  state: TaskState | null;
}

export interface AirflowPool {
  name: string;
  slots: number;
  occupiedSlots: number | null;
  runningSlots: number | null;
  queuedSlots: number | null;
  openSlots: number | null;
  description: string | null;
}

export interface AirflowDataset {
  id: number;
  uri: string;
  name: string | null;
  producingTasks: Array<{ dagId: string; taskId: string }>;
  consumingDagIds: string[];
}

export function toDag(w: DagWire): AirflowDag {
  return {
    dagId: w.dag_id,
    isPaused: w.is_paused ?? false,
    isActive: w.is_active ?? null,
    description: w.description ?? null,
    owners: w.owners ?? [],
    tags: (w.tags ?? []).map((t) => t.name),
    fileloc: w.fileloc ?? null,
  };
}

export function toDagRun(w: DagRunWire): AirflowDagRun {
  return {
    dagId: w.dag_id,
    dagRunId: w.dag_run_id,
    state: (w.state ?? null) as DagRunState | null,
    logicalDate: w.logical_date ?? w.execution_date ?? null,
    runType: w.run_type ?? null,
    queuedAt: w.queued_at ?? null,
    startDate: w.start_date ?? null,
    endDate: w.end_date ?? null,
    conf: w.conf ?? {},
    note: w.note ?? null,
  };
}

export function toTaskInstance(w: TaskInstanceWire): AirflowTaskInstance {
  return {
    dagId: w.dag_id,
    dagRunId: w.dag_run_id ?? w.run_id ?? '',
    taskId: w.task_id,
    mapIndex: w.map_index ?? -1,
    state: normaliseTaskState(w.state),
    tryNumber: w.try_number ?? 0,
    maxTries: w.max_tries ?? null,
    startDate: w.start_date ?? null,
    endDate: w.end_date ?? null,
    durationSeconds: w.duration ?? null,
    hostname: w.hostname ?? null,
    pool: w.pool ?? null,
    operator: w.operator ?? null,
  };
}

export function toClearedTasks(w: z.infer<typeof ClearResponseWire>): ClearedTaskInstance[] {
  return w.task_instances.map((t) => ({
    dagId: t.dag_id,
    dagRunId: t.dag_run_id ?? t.run_id ?? '',
    taskId: t.task_id,
    mapIndex: t.map_index ?? null,
    state: normaliseTaskState(t.state),
  }));
}

export function toPool(w: PoolWire): AirflowPool {
  return {
    name: w.name,
    slots: w.slots,
    occupiedSlots: w.occupied_slots ?? null,
    runningSlots: w.running_slots ?? null,
    queuedSlots: w.queued_slots ?? null,
    openSlots: w.open_slots ?? null,
    description: w.description ?? null,
  };
}

export function toDataset(w: DatasetWire): AirflowDataset {
  const consumers = [...(w.consuming_dags ?? []), ...(w.scheduled_dags ?? [])].map((d) => d.dag_id);
  return {
    id: w.id,
    uri: w.uri,
    name: w.name ?? null,
    producingTasks: (w.producing_tasks ?? []).map((t) => ({ dagId: t.dag_id, taskId: t.task_id })),
    consumingDagIds: [...new Set(consumers)],
  };
}

/** Flattens a log payload's `content` into text lines. */
export function logContentToText(content: string | unknown[]): string {
  if (typeof content === 'string') return content;
  return content
    .filter((item) => !isGroupMarker(item))
    .map(logLine)
    .join('\n');
}

/** Airflow 3 wraps the log source list in `::group::`/`::endgroup::` UI markers: not log content. */
function isGroupMarker(item: unknown): boolean {
  if (item === null || typeof item !== 'object') return false;
  const event = (item as { event?: unknown }).event;
  return typeof event === 'string' && (event.startsWith('::group::') || event === '::endgroup::');
}

function logLine(item: unknown): string {
  if (typeof item === 'string') return item;
  if (Array.isArray(item)) {
    const last: unknown = item[item.length - 1];
    return typeof last === 'string' ? last : JSON.stringify(item);
  }
  if (item !== null && typeof item === 'object') {
    const o = item as Record<string, unknown>;
    const parts = [
      o.timestamp,
      typeof o.level === 'string' ? o.level.toUpperCase() : undefined,
      o.event,
    ].filter((p): p is string => typeof p === 'string' && p !== '');
    return parts.length > 0 ? parts.join(' ') : JSON.stringify(item);
  }
  return String(item);
}

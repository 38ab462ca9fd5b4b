/**
 * Size bounds of one incident's state (pure, workflow-safe). Every list and map in {@link IncidentState}
 * has a cap, every free text a byte limit; and when the serialized state still grows past its budget, the
 * oldest timeline entries and runbook runs are planned out of it (archived to the store by the workflow,
 * or dropped without one), leaving a marker entry in the timeline.
 */
import { boundLabels, DEFAULT_ALERT_CAPS, ESSENTIAL_LABELS } from './alert-bounds';
import type { IncidentState } from './incident-view';
import { boundedId, clipText, utf8Bytes } from './text-bounds';
import type { TimelineEntry } from './timeline';

/** Caps on the incident state (bytes are UTF-8). */
export interface StateBounds {
  /** Serialized state above this is trimmed (archive, then alert compaction). */
  budgetBytes: number;
  /** Trimming aims this far under the budget, so it does not run again at once. */
  targetBytes: number;
  /** Largest batch of entries handed to one archive call. */
  archiveBatchBytes: number;
  /** Newest timeline entries never archived. */
  keepRecentTimeline: number;
  /** With a store: archive the oldest timeline entries once the timeline holds this many. */
  archiveTimelineAt: number;
  /** With a store: archive the oldest runbook runs once the history holds this many. */
  archiveRunbookHistoryAt: number;
  titleBytes: number;
  timelineTextBytes: number;
  timelineActorBytes: number;
  timelineDataKeys: number;
  timelineDataValueBytes: number;
  pages: number;
  pageRecipients: number;
  pendingPages: number;
  errorBytes: number;
  runbookHistory: number;
  approvalDecisions: number;
  approvalRefusals: number;
  approvalTextBytes: number;
  runbookVariables: number;
  valueBytes: number;
  stepDataKeys: number;
  stepDataListItems: number;
  diagnosis: number;
  evidence: number;
  evidenceBytes: number;
  suggestions: number;
  facts: number;
  processedRequests: number;
  /** Longer request ids are remembered as a hash of themselves. */
  requestIdBytes: number;
  summaryBytes: number;
  /** Label values and summary of an alert record compacted under budget pressure. */
  compactLabelValueBytes: number;
  compactSummaryBytes: number;
}

export const DEFAULT_STATE_BOUNDS: StateBounds = {
  budgetBytes: 512 * 1024,
  targetBytes: 256 * 1024,
  archiveBatchBytes: 256 * 1024,
  keepRecentTimeline: 20,
  archiveTimelineAt: 360,
  archiveRunbookHistoryAt: 40,
  titleBytes: 1024,
  timelineTextBytes: 1024,
  timelineActorBytes: 256,
  timelineDataKeys: 20,
  timelineDataValueBytes: 256,
  pages: 200,
  pageRecipients: 20,
  pendingPages: 50,
  errorBytes: 2048,
  runbookHistory: 50,
  approvalDecisions: 50,
  approvalRefusals: 50,
  approvalTextBytes: 1024,
  runbookVariables: 100,
  valueBytes: 1024,
  stepDataKeys: 50,
  stepDataListItems: 50,
  diagnosis: 10,
  evidence: 20,
  evidenceBytes: 512,
  suggestions: 20,
  facts: 50,
  processedRequests: 500,
  requestIdBytes: 128,
  summaryBytes: DEFAULT_ALERT_CAPS.maxSummaryBytes,
  compactLabelValueBytes: 128,
  compactSummaryBytes: 256,
};

/** The bounds with any overrides (a partial set from settings). */
export function stateBounds(overrides: Partial<StateBounds> = {}): StateBounds {
  const b = { ...DEFAULT_STATE_BOUNDS, ...overrides };
  return { ...b, targetBytes: Math.min(b.targetBytes, Math.floor(b.budgetBytes / 2)) };
}

/** What has left the state: archived to the store, or dropped when there is none. */
export interface ArchiveState {
  /** Timeline entries archived (positions 1..timeline are in the store). */
  timeline: number;
  /** Runbook runs archived (positions 1..runbookHistory are in the store). */
  runbookHistory: number;
  timelineDropped: number;
  runbookHistoryDropped: number;
}

/** Serialized size of the state in bytes: what continue-as-new would carry. */
export function serializedSize(state: unknown): number {
  return utf8Bytes(JSON.stringify(state));
}

/** Runbook runs removed from the front of `runbookHistory` (archived or dropped). */
export function runbookRunsRemoved(state: Pick<IncidentState, 'archive'>): number {
  return (state.archive?.runbookHistory ?? 0) + (state.archive?.runbookHistoryDropped ?? 0);
}

function archiveState(state: IncidentState): ArchiveState {
  return (state.archive ??= { timeline: 0, runbookHistory: 0, timelineDropped: 0, runbookHistoryDropped: 0 });
}

/** Keeps the last `max` items (mutates); returns how many went. */
function keepLast<T>(list: T[], max: number): number {
  const excess = list.length - max;
  if (excess <= 0) return 0;
  list.splice(0, excess);
  return excess;
}

function keepFirst<T>(list: T[], max: number): number {
  const excess = list.length - max;
  if (excess <= 0) return 0;
  list.splice(max, excess);
  return excess;
}

function clipMap(map: Record<string, string>, maxKeys: number, valueBytes: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map).slice(0, maxKeys)) out[clipText(k, 128)] = clipText(v, valueBytes);
  return out;
}

function clipEntry(entry: TimelineEntry, b: StateBounds): void {
  entry.text = clipText(entry.text, b.timelineTextBytes);
  if (entry.actor !== undefined) entry.actor = clipText(entry.actor, b.timelineActorBytes);
  if (entry.data) {
    const data: NonNullable<TimelineEntry['data']> = {};
    for (const [k, v] of Object.entries(entry.data).slice(0, b.timelineDataKeys))
      data[clipText(k, 128)] = typeof v === 'string' ? clipText(v, b.timelineDataValueBytes) : v;
    entry.data = data;
  }
}

/**
 * Applies every count and byte cap to the state (mutates; idempotent). Entries are clipped in place, so
 * the objects stay the same ones (an archive plan refers to them). Lists keep their newest items, except
 * approval decisions, which keep the first (they decided the step).
 */
export function enforceCaps(state: IncidentState, b: StateBounds = DEFAULT_STATE_BOUNDS): void {
  state.title = clipText(state.title, b.titleBytes);
  for (const entry of state.timeline) clipEntry(entry, b);
  keepLast(state.processedRequests, b.processedRequests);
  if (state.processedRequests.some((id) => utf8Bytes(id) > b.requestIdBytes))
    state.processedRequests = state.processedRequests.map((id) => boundedId(id, b.requestIdBytes));

  for (const alert of Object.values(state.alerts)) {
    alert.summary = clipText(alert.summary, b.summaryBytes);
    const labels = boundLabels(alert.labels);
    if (labels.dropped + labels.truncated > 0) alert.labels = labels.labels;
  }

  const esc = state.escalation;
  if (esc) {
    keepLast(esc.pages, b.pages);
    for (const page of esc.pages) {
      keepFirst(page.recipients, b.pageRecipients);
      if (page.error !== undefined) page.error = clipText(page.error, b.errorBytes);
    }
    keepLast(esc.pending, b.pendingPages);
  }

  const run = state.runbook;
  if (run) {
    if (Object.keys(run.variables).length > b.runbookVariables || needsClip(run.variables, b.valueBytes))
      run.variables = clipMap(run.variables, b.runbookVariables, b.valueBytes);
    for (const step of Object.values(run.steps)) {
      if (step.error) step.error.message = clipText(step.error.message, b.errorBytes);
      const data: typeof step.data = {};
      for (const [k, v] of Object.entries(step.data).slice(0, b.stepDataKeys)) {
        data[k] =
          typeof v === 'string'
            ? clipText(v, b.valueBytes)
            : Array.isArray(v)
              ? v.slice(0, b.stepDataListItems).map((s) => clipText(s, b.valueBytes))
              : v;
      }
      step.data = data;
      const approval = step.approval;
      if (approval) {
        approval.prompt = clipText(approval.prompt, b.approvalTextBytes);
        keepFirst(approval.decisions, b.approvalDecisions);
        for (const d of approval.decisions)
          if (d.comment !== undefined) d.comment = clipText(d.comment, b.approvalTextBytes);
        const gone = keepLast(approval.refusals, b.approvalRefusals);
        if (gone > 0) approval.refusalsDropped = (approval.refusalsDropped ?? 0) + gone;
        for (const r of approval.refusals) r.user = clipText(r.user, b.timelineActorBytes);
      }
    }
  }
  if (state.runbookHistory) {
    const gone = keepLast(state.runbookHistory, b.runbookHistory);
    if (gone > 0) archiveState(state).runbookHistoryDropped += gone;
  }
  if (state.diagnosis) {
    keepFirst(state.diagnosis, b.diagnosis);
    for (const h of state.diagnosis) {
      keepFirst(h.evidence, b.evidence);
      h.evidence = h.evidence.map((e) => clipText(e, b.evidenceBytes));
      h.cause = clipText(h.cause, b.evidenceBytes);
      h.basis = clipText(h.basis, b.approvalTextBytes);
    }
  }
  if (state.suggestions) keepFirst(state.suggestions, b.suggestions);
  if (state.facts && (Object.keys(state.facts).length > b.facts || needsClip(state.facts, b.valueBytes)))
    state.facts = clipMap(state.facts, b.facts, b.valueBytes);
  if (state.recentChange !== undefined)
    state.recentChange = clipText(state.recentChange, b.approvalTextBytes);
}

function needsClip(map: Record<string, string>, valueBytes: number): boolean {
  return Object.entries(map).some(([k, v]) => utf8Bytes(k) > 128 || utf8Bytes(v) > valueBytes);
}

const MARKER_ALLOWANCE = 512;

/** One batch of entries to move out of the state, with the archive positions they take. */
export type ArchiveBatch =
  | { kind: 'timeline'; fromPosition: number; entries: TimelineEntry[] }
  | {
      kind: 'runbook_history';
      fromPosition: number;
      entries: NonNullable<IncidentState['runbookHistory']>;
    };

/** True for the timeline entry that says how much was archived. */
export function isArchiveMarker(entry: TimelineEntry): boolean {
  return entry.kind === 'note' && typeof entry.data?.archivedEntries === 'number';
}

function chunk<T>(items: T[], maxBytes: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const s = serializedSize(item) + 1;
    if (current.length > 0 && size + s > maxBytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += s;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * What to move out of the state now: nothing while it is within budget (and, with a store, while the
 * timeline and runbook history are short of their archive thresholds). Otherwise the oldest timeline
 * entries (never the marker or the newest `keepRecentTimeline`) until the state would be under
 * `targetBytes`, then the oldest runbook runs (the newest five stay). Positions continue the archive's
 * numbering, so a retried archive call writes the same rows.
 */
export function planArchive(
  state: IncidentState,
  b: StateBounds = DEFAULT_STATE_BOUNDS,
  withStore = true,
  size = serializedSize(state),
): ArchiveBatch[] {
  const history = state.runbookHistory ?? [];
  const overBudget = size > b.budgetBytes;
  const longTimeline = withStore && state.timeline.length >= b.archiveTimelineAt;
  const longHistory = withStore && history.length >= b.archiveRunbookHistoryAt;
  if (!overBudget && !longTimeline && !longHistory) return [];
  // The marker entry added after the move takes some room of its own.
  let excess = overBudget ? size - b.targetBytes + MARKER_ALLOWANCE : 0;

  const candidates = state.timeline.slice(0, Math.max(0, state.timeline.length - b.keepRecentTimeline));
  const timeline: TimelineEntry[] = [];
  // Below the length threshold, only as much as the budget needs; at it, down to half the threshold.
  const byLength = longTimeline
    ? Math.max(0, state.timeline.length - Math.floor(b.archiveTimelineAt / 2))
    : 0;
  for (const entry of candidates) {
    if (isArchiveMarker(entry)) continue;
    if (excess <= 0 && timeline.length >= byLength) break;
    timeline.push(entry);
    excess -= serializedSize(entry) + 1;
  }
  const runs: NonNullable<IncidentState['runbookHistory']> = [];
  const runsByLength = longHistory ? history.length - Math.floor(b.archiveRunbookHistoryAt / 2) : 0;
  for (const run of history.slice(0, Math.max(0, history.length - 5))) {
    if (excess <= 0 && runs.length >= runsByLength) break;
    runs.push(run);
    excess -= serializedSize(run) + 1;
  }
  const archived = state.archive ?? { timeline: 0, runbookHistory: 0 };
  const batches: ArchiveBatch[] = [];
  let position = archived.timeline + 1;
  for (const entries of chunk(timeline, b.archiveBatchBytes)) {
    batches.push({ kind: 'timeline', fromPosition: position, entries });
    position += entries.length;
  }
  position = archived.runbookHistory + 1;
  for (const entries of chunk(runs, b.archiveBatchBytes)) {
    batches.push({ kind: 'runbook_history', fromPosition: position, entries });
    position += entries.length;
  }
  return batches;
}

/**
 * Removes a batch's entries from the state (mutates), counting them as archived (`stored`) or dropped, and
 * updates the marker entry at the head of the timeline ("N older entries archived"). Entries are matched
 * by identity: any the timeline dropped meanwhile are simply gone already.
 */
export function removeArchived(state: IncidentState, batch: ArchiveBatch, stored: boolean): void {
  const archive = archiveState(state);
  if (batch.kind === 'timeline') {
    const gone = new Set<TimelineEntry>(batch.entries);
    const kept = state.timeline.filter((e) => !gone.has(e));
    state.timeline.splice(0, state.timeline.length, ...kept);
    if (stored) archive.timeline = batch.fromPosition + batch.entries.length - 1;
    else archive.timelineDropped += batch.entries.length;
  } else {
    const gone = new Set<object>(batch.entries);
    const history = state.runbookHistory ?? [];
    const kept = history.filter((r) => !gone.has(r));
    history.splice(0, history.length, ...kept);
    if (stored) archive.runbookHistory = batch.fromPosition + batch.entries.length - 1;
    else archive.runbookHistoryDropped += batch.entries.length;
  }
  const last = batch.entries[batch.entries.length - 1];
  const at = last && 'at' in last ? last.at : (state.timeline[0]?.at ?? state.openedAt);
  const marker: TimelineEntry = {
    at,
    kind: 'note',
    text: archiveMarkerText(archive),
    actor: 'system',
    data: {
      archivedEntries: archive.timeline,
      archivedRunbookRuns: archive.runbookHistory,
      droppedEntries: archive.timelineDropped,
      droppedRunbookRuns: archive.runbookHistoryDropped,
    },
  };
  const index = state.timeline.findIndex(isArchiveMarker);
  if (index >= 0) state.timeline[index] = { ...marker, at: state.timeline[index]!.at };
  else state.timeline.unshift(marker);
}

/** "412 older entries archived" (and what was archived or dropped besides). */
export function archiveMarkerText(a: ArchiveState): string {
  const parts = [`${a.timeline} older entries archived`];
  if (a.timelineDropped > 0) parts.push(`${a.timelineDropped} dropped (no store)`);
  if (a.runbookHistory > 0) parts.push(`${a.runbookHistory} earlier runbook runs archived`);
  if (a.runbookHistoryDropped > 0) parts.push(`${a.runbookHistoryDropped} earlier runbook runs dropped`);
  return parts.join('; ');
}

/**
 * Last resort when the state is still over budget once the timeline and runbook history are trimmed:
 * alert records shrink to their essential labels and a short summary, resolved ones and the least recently
 * seen first, until the state is under `targetBytes`. Records are never removed (the alert count stays
 * right). Returns how many were compacted.
 */
export function compactAlerts(state: IncidentState, b: StateBounds = DEFAULT_STATE_BOUNDS): number {
  let size = serializedSize(state);
  if (size <= b.budgetBytes) return 0;
  const order = Object.values(state.alerts)
    .filter((a) => !a.compacted)
    .sort(
      (x, y) =>
        Number(x.status === 'firing') - Number(y.status === 'firing') ||
        x.lastSeenAt.localeCompare(y.lastSeenAt) ||
        x.fingerprint.localeCompare(y.fingerprint),
    );
  let compacted = 0;
  for (const alert of order) {
    if (size <= b.targetBytes) break;
    const before = serializedSize(alert);
    const labels: Record<string, string> = {};
    for (const key of ESSENTIAL_LABELS) {
      const v = alert.labels[key];
      if (v !== undefined) labels[key] = clipText(v, b.compactLabelValueBytes);
    }
    alert.labels = labels;
    alert.summary = clipText(alert.summary, b.compactSummaryBytes);
    alert.compacted = true;
    compacted += 1;
    size -= before - serializedSize(alert);
  }
  return compacted;
}

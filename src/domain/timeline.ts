/** Kinds of entries in an incident's timeline (its audit trail, shown in Slack, the API and postmortems). */
export type TimelineKind =
  | 'opened'
  | 'alert_firing'
  | 'alert_resolved'
  | 'severity_raised'
  | 'acknowledged'
  | 'comment'
  | 'escalated'
  | 'paged'
  | 'page_failed'
  | 'diagnosis'
  | 'runbook_started'
  | 'step_started'
  | 'step_succeeded'
  | 'step_failed'
  | 'step_skipped'
  | 'approval_requested'
  | 'approval_recorded'
  | 'approval_refused'
  | 'approval_timed_out'
  | 'automation_paused'
  | 'notification_failed'
  | 'resolved'
  | 'reopened'
  | 'postmortem'
  | 'note';

/** One fact in the incident's history. `at` is RFC 3339 workflow time. */
export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  text: string;
  /** Person id, Slack user, `automation` or `system`. */
  actor?: string;
  data?: Record<string, string | number | boolean | null>;
  /** Position in the incident's whole timeline (entries may be dropped from the middle when bounded). */
  seq?: number;
}

/** Appends an entry and keeps the timeline bounded: the first `keepHead` and the most recent entries stay. */
export function appendTimeline(
  timeline: TimelineEntry[],
  entry: TimelineEntry,
  limit = 400,
  keepHead = 50,
): { timeline: TimelineEntry[]; dropped: number } {
  timeline.push(entry);
  if (timeline.length <= limit) return { timeline, dropped: 0 };
  const dropped = timeline.length - limit;
  timeline.splice(keepHead, dropped);
  return { timeline, dropped };
}

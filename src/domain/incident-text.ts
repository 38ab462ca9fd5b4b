import { firingAlerts } from './incident';
import type { IncidentState } from './incident-view';
import type { Severity } from './severity';

const MAX_SUMMARY_BYTES = 200;

function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = utf8Length(ch);
    if (bytes + size > maxBytes - 3) return `${out}...`;
    out += ch;
    bytes += size;
  }
  return out;
}

function utf8Length(ch: string): number {
  const code = ch.codePointAt(0) ?? 0;
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

/** One-line Web UI summary (≤ 200 bytes): `P2 · customer_etl · Task failure rate > 50%`. */
export function incidentSummary(input: { severity: Severity; service: string; title: string }): string {
  const line = `${input.severity} · ${input.service} · ${input.title}`.replace(/\s+/g, ' ');
  return utf8Bytes(line) <= MAX_SUMMARY_BYTES ? line : truncateUtf8(line, MAX_SUMMARY_BYTES);
}

function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const ch of text) bytes += utf8Length(ch);
  return bytes;
}

/** Static Web UI details (markdown) written once at start. */
export function incidentDetails(input: {
  incidentId: string;
  dedupKey: string;
  service: string;
  incidentType: string;
  severity: Severity;
  title: string;
  routing: { rule: string | null; runbook: string | null; escalationPolicy: string };
  labels?: Record<string, string>;
}): string {
  const lines = [
    `## ${input.title}`,
    '',
    `| | |`,
    `|---|---|`,
    `| Incident | \`${input.incidentId}\` |`,
    `| Type | ${input.incidentType} |`,
    `| Service | ${input.service} |`,
    `| Opened at severity | ${input.severity} |`,
    `| Dedup key | \`${input.dedupKey}\` |`,
    `| Routing rule | ${input.routing.rule ?? '(label conventions)'} |`,
    `| Runbook | ${input.routing.runbook ?? '(none)'} |`,
    `| Escalation policy | ${input.routing.escalationPolicy} |`,
  ];
  if (input.labels && Object.keys(input.labels).length > 0) {
    lines.push('', '**First alert labels**', '');
    for (const [k, v] of Object.entries(input.labels).sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`- \`${k}\` = \`${v}\``);
    }
  }
  return truncateUtf8(lines.join('\n'), 20_000);
}

/** Live Web UI details (markdown): status, alerts, latest timeline entries. */
export function incidentCurrentDetails(state: IncidentState, extraSections: string[] = []): string {
  const firing = firingAlerts(state);
  const total = Object.keys(state.alerts).length;
  const lines = [
    `**${state.number ?? state.incidentId}** · ${state.severity} · **${state.status}**`,
    '',
    `Alerts: ${firing.length} firing / ${total} seen (${state.counters.duplicates} duplicate deliveries dropped)`,
  ];
  if (state.acknowledgedBy) lines.push(`Acknowledged by ${state.acknowledgedBy} at ${state.acknowledgedAt}`);
  if (state.resolvedAt) {
    lines.push(
      `Resolved at ${state.resolvedAt} (${state.resolution?.reason ?? 'manual'}${state.resolution?.by ? ` by ${state.resolution.by}` : ''})`,
    );
  } else if (state.allResolvedSince) {
    lines.push(`All alerts resolved since ${state.allResolvedSince}; auto-resolving after the grace period`);
  }
  lines.push(...extraSections);
  const recent = state.timeline.slice(-8);
  if (recent.length > 0) {
    lines.push('', '**Latest**', '');
    for (const e of recent) lines.push(`- ${e.at.slice(11, 19)} ${e.text}`);
  }
  return truncateUtf8(lines.join('\n'), 20_000);
}

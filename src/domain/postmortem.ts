import { causeLabel, preventionFor } from './causes';
import type { Hypothesis } from './diagnosis';
import { formatDuration } from './duration';
import type { DeploymentRecord, StepRecord, StoredEvent, StoredIncident } from './incident-record';
import { formatClock, formatDate, toMs } from './time-format';

/**
 * Postmortem draft (pure): the seed's "Incident Summary" (INC-2026-04-25-001) — What, Timeline, Why,
 * How Fixed, Prevention, Metrics — rendered from the incident's own record.
 */

/** Everything a postmortem is built from; each part is what the store returns for the incident. */
export interface PostmortemInput {
  incident: Pick<
    StoredIncident,
    | 'incidentKey'
    | 'number'
    | 'title'
    | 'service'
    | 'incidentType'
    | 'severity'
    | 'openedAt'
    | 'acknowledgedAt'
    | 'acknowledgedBy'
    | 'resolvedAt'
    | 'highestEscalationLevel'
    | 'outcome'
    | 'resolvedBy'
    | 'runbook'
    | 'rootCause'
    | 'rootCauseConfirmed'
    | 'fix'
  >;
  /** One-line "What" (e.g. "customer_etl DAG failed, 2 hour SLA breach"); defaults to the title. */
  what?: string;
  /** The incident's timeline entries. */
  events: ReadonlyArray<Pick<StoredEvent, 'at' | 'kind' | 'text' | 'actor'>>;
  /** Deployments shown in the timeline (usually the diagnosis' evidence). */
  deployments?: ReadonlyArray<Pick<DeploymentRecord, 'service' | 'version' | 'at' | 'description'>>;
  /** Ranked hypotheses of the latest diagnosis. */
  hypotheses: readonly Hypothesis[];
  /** Extra "Why" lines written by a person. */
  why?: readonly string[];
  steps: readonly StepRecord[];
  /** The runbook's `prevention` list; cause-specific suggestions are appended. */
  prevention?: readonly string[];
  /** IANA time zone for times (default UTC). */
  timeZone?: string;
}

/** Timeline entry kinds a postmortem shows (the rest are operational detail). */
export const POSTMORTEM_TIMELINE_KINDS: ReadonlySet<string> = new Set([
  'deployment',
  'alert_firing',
  'severity_raised',
  'acknowledged',
  'escalated',
  'diagnosis',
  'step_succeeded',
  'step_failed',
  'approval_recorded',
  'approval_refused',
  'approval_timed_out',
  'automation_paused',
  'resolved',
  'reopened',
]);

/** At most this many `alert_firing` lines; later ones are summarised in one line. */
const MAX_ALERT_LINES = 3;

interface Line {
  ms: number;
  order: number;
  text: string;
}

/** Renders the postmortem markdown. */
export function renderPostmortem(input: PostmortemInput): string {
  const tz = input.timeZone ?? 'UTC';
  const inc = input.incident;
  const openedMs = toMs(inc.openedAt);
  const day = formatDate(openedMs, tz);
  const out: string[] = [];
  out.push(`## Incident Summary — ${inc.number ?? inc.incidentKey}`, '');
  out.push(`*${inc.service} · ${inc.severity} · ${inc.incidentType} · ${day} · times in ${tz}*`, '');
  out.push(`**What**: ${input.what ?? inc.title}`, '');
  out.push('**Timeline**:', ...timeline(input, day, tz), '');
  out.push(...why(input), '');
  out.push('**How Fixed**:', ...howFixed(input), '');
  out.push('**Prevention**:', ...prevention(input), '');
  out.push('**Metrics**:', ...metrics(input));
  return `${out.join('\n')}\n`;
}

function timeline(input: PostmortemInput, day: string, tz: string): string[] {
  const lines: Line[] = [];
  (input.deployments ?? []).forEach((d, i) => {
    lines.push({
      ms: toMs(d.at),
      order: i,
      text: `Deployment ${d.version} of ${d.service} released${d.description ? ` (${d.description})` : ''}`,
    });
  });
  const hasAlert = input.events.some((e) => e.kind === 'alert_firing');
  let alertLines = 0;
  let moreAlerts = 0;
  let lastAlertMs = 0;
  input.events.forEach((e, i) => {
    const shown = POSTMORTEM_TIMELINE_KINDS.has(e.kind) || (e.kind === 'opened' && !hasAlert);
    if (!shown) return;
    const ms = toMs(e.at);
    if (e.kind === 'alert_firing') {
      if (alertLines >= MAX_ALERT_LINES) {
        moreAlerts += 1;
        lastAlertMs = Math.max(lastAlertMs, ms);
        return;
      }
      alertLines += 1;
    }
    lines.push({ ms, order: 1000 + i, text: e.text });
  });
  if (moreAlerts > 0) {
    lines.push({
      ms: lastAlertMs,
      order: 999_999,
      text: `${moreAlerts} more alert${moreAlerts === 1 ? '' : 's'} fired (last shown here)`,
    });
  }
  if (lines.length === 0) return ['- (no timeline recorded)'];
  return lines
    .sort((a, b) => a.ms - b.ms || a.order - b.order)
    .map((l) => {
      const d = formatDate(l.ms, tz);
      const when = d === day ? formatClock(l.ms, tz) : `${d.slice(5)} ${formatClock(l.ms, tz)}`;
      return `- ${when} — ${oneLine(l.text)}`;
    });
}

function why(input: PostmortemInput): string[] {
  const inc = input.incident;
  const top = input.hypotheses[0];
  const out: string[] = [];
  if (inc.rootCause && inc.rootCauseConfirmed) {
    out.push(`**Why**: ${causeLabel(inc.rootCause)} (confirmed)`);
    const h = input.hypotheses.find((x) => x.cause === inc.rootCause);
    if (h) out.push(...h.evidence.map((e) => `  - ${oneLine(e)}`));
  } else if (top) {
    out.push(
      `**Why**: likely ${causeLabel(top.cause)} (confidence ${Math.round(top.confidence * 100)}%, not yet confirmed)`,
    );
    out.push(...top.evidence.map((e) => `  - ${oneLine(e)}`));
    out.push(`  - basis: ${top.basis}`);
  } else if (inc.rootCause) {
    out.push(`**Why**: ${causeLabel(inc.rootCause)} (not yet confirmed)`);
  } else {
    out.push('**Why**: unknown — no hypothesis was found; fill in at review');
  }
  for (const line of input.why ?? []) out.push(`  - ${oneLine(line)}`);
  const mainCause = inc.rootCause && inc.rootCauseConfirmed ? inc.rootCause : top?.cause;
  const others = input.hypotheses.filter((h) => h.cause !== mainCause).slice(0, 3);
  if (others.length > 0) {
    out.push(
      `  - also considered: ${others.map((h) => `${causeLabel(h.cause)} (${Math.round(h.confidence * 100)}%)`).join(', ')}`,
    );
  }
  return out;
}

function howFixed(input: PostmortemInput): string[] {
  const inc = input.incident;
  const ran = input.steps
    .filter((s) => s.result !== 'skipped' && s.result !== 'running' && s.result !== 'waiting')
    .map((s, i) => ({ s, i, ms: stepMs(s) }))
    .sort((a, b) => a.ms - b.ms || a.i - b.i)
    .map(({ s }) => s);
  const out: string[] = [];
  if (inc.outcome === 'auto_resolved')
    out.push('- Resolved on its own: every alert cleared and no action ran');
  if (ran.length > 0) {
    const runbooks = [...new Set(ran.map((s) => s.runbook))];
    out.push(`- Runbook ${runbooks.map((r) => `\`${r}\``).join(', ')}:`);
    for (const s of ran) {
      const attempts = s.attempts > 1 ? ` after ${s.attempts} attempts` : '';
      const error = s.error && s.result !== 'succeeded' ? `: ${oneLine(s.error)}` : '';
      out.push(`  - ${s.name ?? s.stepId} — ${s.result}${attempts} (${s.actor ?? 'automation'})${error}`);
    }
  }
  if (inc.outcome === 'resolved_manually') {
    out.push(`- Resolved manually${inc.resolvedBy ? ` by ${inc.resolvedBy}` : ''}`);
  }
  if (inc.fix && !ran.some((s) => s.runbook === inc.fix)) out.push(`- Fix: ${oneLine(inc.fix)}`);
  if (out.length === 0) out.push('- (no fix recorded)');
  return out;
}

function stepMs(s: StepRecord): number {
  const at = s.startedAt ?? s.finishedAt;
  return at ? toMs(at) : Number.MAX_SAFE_INTEGER;
}

function prevention(input: PostmortemInput): string[] {
  const cause =
    input.incident.rootCause && input.incident.rootCauseConfirmed
      ? input.incident.rootCause
      : (input.hypotheses[0]?.cause ?? input.incident.rootCause);
  const seen = new Set<string>();
  const items: string[] = [];
  for (const item of [...(input.prevention ?? []), ...preventionFor(cause)]) {
    const key = item.trim().toLowerCase();
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    items.push(`- [ ] ${oneLine(item)}`);
  }
  return items.length > 0 ? items : ['- [ ] (decide at review)'];
}

function metrics(input: PostmortemInput): string[] {
  const inc = input.incident;
  const opened = toMs(inc.openedAt);
  const tta = inc.acknowledgedAt
    ? `${formatDuration(toMs(inc.acknowledgedAt) - opened)}${inc.acknowledgedBy ? ` (by ${inc.acknowledgedBy})` : ''}`
    : 'not acknowledged';
  const ttr = inc.resolvedAt ? formatDuration(toMs(inc.resolvedAt) - opened) : 'not resolved';
  const level = inc.highestEscalationLevel > 0 ? `L${inc.highestEscalationLevel}` : 'none';
  return [
    `- Time to acknowledge: ${tta}`,
    `- Time to resolve: ${ttr}`,
    `- Highest escalation level: ${level}`,
  ];
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

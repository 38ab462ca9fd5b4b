import type { IncidentView } from '../../domain/incident-view';
import { escapeMrkdwn } from '../../domain/slack-message';
import type { ActionResult, IncidentSummary } from '../incident-actions';

/** What Slack shows the person: an HTTP response body, a Socket Mode ack payload or a `response_url` post. */
export interface SlackReply {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
}

/** Slack's `text` limit for messages is far higher, but a reply longer than this is unreadable anyway. */
const MAX_REPLY = 3_000;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** An ephemeral reply: only the person who clicked or typed sees it. */
export function ephemeral(text: string): SlackReply {
  return { response_type: 'ephemeral', text: clip(text, MAX_REPLY) };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Renders the person's Slack id as a mention (`<@U123>`, shown as their name) wherever it appears. */
function mention(text: string, slackUserId: string): string {
  if (!/^[UW][A-Z0-9]+$/.test(slackUserId)) return text;
  return text.replace(new RegExp(`\\b${slackUserId}\\b`, 'g'), `<@${slackUserId}>`);
}

/**
 * Tells a person what their action did: `✅` it acted (or had already acted), `⛔` the incident refused it
 * (the refusal is in its timeline), `⏳` the signal is recorded but no worker answered in time.
 */
export function outcomeText(result: Pick<ActionResult, 'ok' | 'message' | 'pending'>, slackUserId: string) {
  const icon = result.pending ? '⏳' : result.ok ? '✅' : '⛔';
  return `${icon} ${mention(escapeMrkdwn(capitalize(result.message)), slackUserId)}`;
}

/** A time Slack renders in the reader's own time zone, with the ISO text as fallback. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

const LIST_TITLE = { open: 'Open incidents', resolved: 'Resolved incidents', all: 'Incidents' } as const;

/** `/incident list`: one compact line per incident, newest first. */
export function formatIncidentList(
  status: 'open' | 'resolved' | 'all',
  incidents: readonly IncidentSummary[],
  limit: number,
): string {
  if (incidents.length === 0) return `No ${status === 'all' ? '' : `${status} `}incidents.`;
  const more = incidents.length >= limit ? ` (newest ${limit})` : ` (${incidents.length})`;
  const lines = incidents.map((i) => {
    const state = i.status ?? i.executionStatus.toLowerCase();
    const parts = [
      `\`${escapeMrkdwn(i.incidentId)}\``,
      escapeMrkdwn(i.severity ?? '?'),
      escapeMrkdwn(state),
      escapeMrkdwn(i.service ?? '?'),
    ];
    if (i.escalationLevel) parts.push(`L${i.escalationLevel}`);
    parts.push(`opened ${slackDate(i.startedAt)}`);
    return `• ${parts.join(' · ')}`;
  });
  const header = `*${LIST_TITLE[status]}*${more}`;
  const out: string[] = [header];
  let size = header.length;
  for (const line of lines) {
    if (size + line.length + 1 > MAX_REPLY - 40) {
      out.push(`… and ${lines.length - (out.length - 1)} more`);
      break;
    }
    out.push(line);
    size += line.length + 1;
  }
  return out.join('\n');
}

const ACTIVE_STEP = new Set(['running', 'retry_wait', 'awaiting_approval']);

function runbookLine(v: IncidentView): string | undefined {
  const run = v.runbook;
  if (!run) return undefined;
  const name = `${escapeMrkdwn(run.title || run.runbook)} (\`${escapeMrkdwn(run.runId)}\`)`;
  if (run.status === 'running') {
    const step = Object.values(run.steps).find((s) => ACTIVE_STEP.has(s.status));
    const at = step ? `, step \`${escapeMrkdwn(step.id)}\` ${step.status.replace('_', ' ')}` : '';
    return `*Runbook:* ${name} running${at}`;
  }
  const why = run.outcomeReason ? `: ${escapeMrkdwn(run.outcomeReason)}` : '';
  return `*Runbook:* ${name} ${run.status}${why}`;
}

/** `/incident show <id>`: the incident's state at a glance (the Slack message's facts, as text). */
export function formatIncidentView(v: IncidentView): string {
  const id = v.number ?? v.incidentId;
  const lines = [`*${escapeMrkdwn(id)}*: ${escapeMrkdwn(v.title)} (${v.severity})`];
  const facts = [`*Status:* ${v.status.replace('_', ' ')}`, `*Service:* ${escapeMrkdwn(v.service)}`];
  if (v.escalation) {
    const e = v.escalation;
    const next = e.nextAt ? `, next ${slackDate(e.nextAt)}${e.next ? `: ${escapeMrkdwn(e.next)}` : ''}` : '';
    facts.push(`*Escalation level:* ${v.escalation.level}${next}`);
  }
  lines.push(facts.join(' · '));
  lines.push(
    v.acknowledgedBy
      ? `*Acknowledged by:* ${escapeMrkdwn(v.acknowledgedBy)}${v.acknowledgedAt ? ` (${slackDate(v.acknowledgedAt)})` : ''}`
      : '*Acknowledged:* not yet',
  );
  if (v.investigator) {
    lines.push(
      `*Investigating:* ${escapeMrkdwn(v.investigator)}${v.automationPaused ? ' (automation paused)' : ''}`,
    );
  }
  for (const a of v.pendingApprovals) {
    const who = a.allowed.map((p) => p.name).join(', ') || 'nobody';
    const deadline = slackDate(new Date(a.deadlineAt).toISOString());
    lines.push(
      `*Pending approval:* \`${escapeMrkdwn(a.stepId)}\` (runbook ${escapeMrkdwn(a.runbook)}): ${escapeMrkdwn(a.prompt)}; approvers ${escapeMrkdwn(who)}; until ${deadline}`,
    );
  }
  if (v.pendingApprovals.length === 0) lines.push('*Pending approvals:* none');
  lines.push(runbookLine(v) ?? '*Runbook:* none run yet');
  if (v.resolvedAt) {
    const r = v.resolution;
    const by = r?.by ? ` by ${escapeMrkdwn(r.by)}` : '';
    const how = r ? ` (${r.reason}${r.note ? `: ${escapeMrkdwn(r.note)}` : ''})` : '';
    lines.push(`*Resolved:* ${slackDate(v.resolvedAt)}${by}${how}`);
  }
  const links: string[] = [];
  if (v.links.temporalUi) links.push(`<${v.links.temporalUi}|Temporal Web UI>`);
  if (v.links.grafana) links.push(`<${v.links.grafana}|Grafana>`);
  links.push(`\`${escapeMrkdwn(v.incidentId)}\``);
  lines.push(`*Links:* ${links.join(' · ')}`);
  return lines.join('\n');
}

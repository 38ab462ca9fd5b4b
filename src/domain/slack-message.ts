/**
 * The incident's Slack message (Block Kit, pure). Rendered in the workflow from the incident state and
 * posted once (its `ts` lives in workflow state), then edited in place with `chat.update` as the incident
 * moves. Every message has a fallback `text`.
 */
import type { Severity } from './severity';

/** Button action ids; the `value` carries the incident id (and the runbook or step). */
export const SlackAction = {
  acknowledge: 'incident_ack',
  runRunbook: 'incident_run_runbook',
  approve: 'incident_approve',
  reject: 'incident_reject',
  investigate: 'incident_investigate',
  resolve: 'incident_resolve',
} as const;
export type SlackAction = (typeof SlackAction)[keyof typeof SlackAction];

/** What a button click refers to, encoded as JSON in the button `value` (≤ 2000 characters). */
export interface ActionValue {
  /** Incident (workflow) id. */
  i: string;
  /** Runbook name (run buttons). */
  r?: string;
  /** Step id (approve / reject). */
  s?: string;
}

export function encodeActionValue(value: ActionValue): string {
  return JSON.stringify(value);
}

/** Decodes a button value; undefined when it is not one of ours. */
export function decodeActionValue(raw: string | undefined): ActionValue | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<ActionValue>;
    if (typeof v.i !== 'string' || v.i === '') return undefined;
    return {
      i: v.i,
      ...(typeof v.r === 'string' ? { r: v.r } : {}),
      ...(typeof v.s === 'string' ? { s: v.s } : {}),
    };
  } catch {
    return undefined;
  }
}

/** A suggested fix offered as a button. */
export interface Suggestion {
  runbook: string;
  title: string;
  risk: 'safe' | 'risky';
  /** Recorded success rate (0..1) and how many runs it rests on. */
  successRate?: number;
  runs?: number;
  /** Flagged for manual improvement (fails too often). */
  flagged?: boolean;
}

/** Everything the message shows. */
export interface IncidentMessageModel {
  incidentId: string;
  number?: string;
  title: string;
  severity: Severity;
  status: string;
  service: string;
  /** The headline alert: `airflow_task_fail_rate > 50% for 5m`. */
  alert: string;
  affected?: string;
  recentChange?: { text: string };
  diagnosis?: { cause: string; confidence: number; basis?: string };
  suggestions: Suggestion[];
  acknowledgedBy?: string;
  investigator?: string;
  /** What the automation is doing now: "Running step rollback (kubectl rollout undo)". */
  activity?: string;
  pendingApproval?: { stepId: string; prompt: string; approvers: string[]; deadline: string };
  resolved?: { at: string; by?: string; reason: string };
  escalationLevel?: number;
  links: { temporalUi?: string; grafana?: string; incident?: string };
}

type Text = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean };
type Button = {
  type: 'button';
  action_id: string;
  text: Text;
  value?: string;
  url?: string;
  style?: 'primary' | 'danger';
  confirm?: {
    title: Text;
    text: Text;
    confirm: Text;
    deny: Text;
    style?: 'primary' | 'danger';
  };
};
/** The Block Kit subset we render. */
export type Block =
  | { type: 'header'; text: Text }
  | { type: 'section'; text: Text; fields?: Text[] }
  | { type: 'context'; elements: Text[] }
  | { type: 'actions'; block_id?: string; elements: Button[] }
  | { type: 'divider' };

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

const plain = (text: string): Text => ({ type: 'plain_text', text, emoji: true });
const md = (text: string): Text => ({ type: 'mrkdwn', text });

/** Escapes Slack's control characters in user-provided text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function confirm(title: string, text: string, yes: string): Button['confirm'] {
  return {
    title: plain(clip(title, 100)),
    text: md(clip(text, 300)),
    confirm: plain(clip(yes, 30)),
    deny: plain('Cancel'),
    style: 'danger',
  };
}

const STATUS_EMOJI: Record<string, string> = {
  triggered: ':rotating_light:',
  investigating: ':mag:',
  mitigating: ':hammer_and_wrench:',
  awaiting_approval: ':raised_hand:',
  monitoring: ':eyes:',
  resolved: ':white_check_mark:',
  closed: ':white_check_mark:',
};

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** Renders the incident message (header, facts, diagnosis, suggestions, status, buttons, links). */
export function renderIncidentMessage(m: IncidentMessageModel): SlackMessage {
  const id = m.number ?? m.incidentId;
  const closed = m.resolved !== undefined;
  const emoji = STATUS_EMOJI[m.status] ?? ':rotating_light:';
  const blocks: Block[] = [
    {
      type: 'header',
      text: plain(clip(`${closed ? '✅' : '🚨'} Incident ${id}: ${m.title} (${m.severity})`, 150)),
    },
  ];
  const facts = [`*Alert:* ${escapeMrkdwn(m.alert)}`, `*Affected:* ${escapeMrkdwn(m.affected ?? m.service)}`];
  if (m.recentChange) facts.push(`*Recent change:* ${escapeMrkdwn(m.recentChange.text)}`);
  blocks.push({ type: 'section', text: md(clip(facts.join('\n'), 3000)) });

  if (m.diagnosis) {
    const basis = m.diagnosis.basis ? `\n_${escapeMrkdwn(m.diagnosis.basis)}_` : '';
    blocks.push({
      type: 'section',
      text: md(
        clip(
          `:robot_face: *Diagnosis:* "Likely cause: ${escapeMrkdwn(m.diagnosis.cause)}"\nConfidence: ${pct(m.diagnosis.confidence)}${basis}`,
          3000,
        ),
      ),
    });
  }

  const suggestions = closed ? [] : m.suggestions.slice(0, 5);
  if (suggestions.length > 0) {
    const lines = suggestions.map((s, n) => {
      const rate =
        s.successRate !== undefined && s.runs ? `, ${pct(s.successRate)} of ${s.runs} runs succeeded` : '';
      const gate = s.risk === 'risky' ? 'requires approval' : 'auto-safe';
      const flag = s.flagged ? ' :warning: flagged for review' : '';
      return `Option ${n + 1}: ${escapeMrkdwn(s.title)} (${gate}${rate})${flag}`;
    });
    blocks.push({
      type: 'section',
      text: md(clip(`:clipboard: *Suggested fix:*\n${lines.join('\n')}`, 3000)),
    });
  }

  const status: string[] = [`${emoji} *Status:* ${m.status.replace('_', ' ')}`];
  if (m.escalationLevel) status.push(`escalation level ${m.escalationLevel}`);
  if (m.acknowledgedBy) status.push(`acknowledged by ${escapeMrkdwn(m.acknowledgedBy)}`);
  if (m.investigator)
    status.push(`${escapeMrkdwn(m.investigator)} is investigating manually (automation paused)`);
  if (m.activity && !closed) status.push(escapeMrkdwn(m.activity));
  if (m.pendingApproval && !closed) {
    status.push(
      `awaiting approval from ${escapeMrkdwn(m.pendingApproval.approvers.join(' or '))} until ${m.pendingApproval.deadline}: ${escapeMrkdwn(m.pendingApproval.prompt)}`,
    );
  }
  if (m.resolved) {
    status.push(
      `resolved ${m.resolved.at}${m.resolved.by ? ` by ${escapeMrkdwn(m.resolved.by)}` : ''} (${escapeMrkdwn(m.resolved.reason)})`,
    );
  }
  blocks.push({ type: 'section', text: md(clip(status.join(' · '), 3000)) });

  if (!closed) {
    const buttons: Button[] = [];
    if (m.pendingApproval) {
      const v = encodeActionValue({ i: m.incidentId, s: m.pendingApproval.stepId });
      buttons.push(
        {
          type: 'button',
          action_id: SlackAction.approve,
          text: plain('Approve'),
          style: 'primary',
          value: v,
          confirm: confirm('Approve?', m.pendingApproval.prompt, 'Approve'),
        },
        { type: 'button', action_id: SlackAction.reject, text: plain('Reject'), style: 'danger', value: v },
      );
    }
    if (!m.acknowledgedBy) {
      buttons.push({
        type: 'button',
        action_id: SlackAction.acknowledge,
        text: plain('Acknowledge'),
        style: 'primary',
        value: encodeActionValue({ i: m.incidentId }),
      });
    }
    suggestions.forEach((s, n) => {
      const label =
        s.risk === 'risky' ? `Option ${n + 1} - ${s.title} (approval)` : `Option ${n + 1} - ${s.title}`;
      buttons.push({
        type: 'button',
        action_id: `${SlackAction.runRunbook}:${s.runbook}`,
        text: plain(clip(label, 75)),
        value: encodeActionValue({ i: m.incidentId, r: s.runbook }),
        ...(s.risk === 'risky'
          ? {
              confirm: confirm(
                `Request: ${s.title}?`,
                `This starts *${escapeMrkdwn(s.title)}*, which asks an approver before it acts.`,
                'Request',
              ),
            }
          : {}),
      });
    });
    if (!m.investigator) {
      buttons.push({
        type: 'button',
        action_id: SlackAction.investigate,
        text: plain('Manual Investigate'),
        value: encodeActionValue({ i: m.incidentId }),
      });
    }
    buttons.push({
      type: 'button',
      action_id: SlackAction.resolve,
      text: plain('Resolve'),
      value: encodeActionValue({ i: m.incidentId }),
      confirm: confirm('Resolve the incident?', 'This stops escalation and any running runbook.', 'Resolve'),
    });
    // Slack allows 25 elements per actions block; keep rows short enough to read.
    for (let start = 0; start < buttons.length; start += 5) {
      blocks.push({
        type: 'actions',
        block_id: `incident_actions_${start / 5}`,
        elements: buttons.slice(start, start + 5),
      });
    }
  }

  const links: string[] = [];
  if (m.links.temporalUi) links.push(`<${m.links.temporalUi}|Temporal Web UI>`);
  if (m.links.grafana) links.push(`<${m.links.grafana}|Grafana>`);
  if (m.links.incident) links.push(`<${m.links.incident}|API>`);
  links.push(`\`${escapeMrkdwn(m.incidentId)}\``);
  blocks.push({ type: 'context', elements: [md(clip(links.join(' · '), 3000))] });

  const text = `${closed ? 'Resolved' : 'Incident'} ${id}: ${m.title} (${m.severity}) · ${m.status}`;
  return { text: clip(text, 3000), blocks };
}

/** Block Kit limits (Slack docs): checked by tests and before every post. */
export function blockKitProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (!message.text) problems.push('missing fallback text');
  if (message.blocks.length > 50) problems.push(`${message.blocks.length} blocks (max 50)`);
  message.blocks.forEach((block, i) => {
    if (block.type === 'section' && block.text.text.length > 3000)
      problems.push(`blocks.${i}: section text over 3000`);
    if (block.type === 'header' && block.text.text.length > 150)
      problems.push(`blocks.${i}: header over 150`);
    if (block.type !== 'actions') return;
    if (block.elements.length > 25) problems.push(`blocks.${i}: ${block.elements.length} elements (max 25)`);
    const ids = new Set<string>();
    block.elements.forEach((b, j) => {
      const at = `blocks.${i}.elements.${j}`;
      if (b.text.text.length > 75) problems.push(`${at}: button text over 75`);
      if ((b.value ?? '').length > 2000) problems.push(`${at}: value over 2000`);
      if (b.action_id.length > 255) problems.push(`${at}: action_id over 255`);
      if (ids.has(b.action_id)) problems.push(`${at}: duplicate action_id ${b.action_id}`);
      ids.add(b.action_id);
      if (b.url && b.url.length > 3000) problems.push(`${at}: url over 3000`);
      if (b.confirm) {
        for (const key of ['confirm', 'deny'] as const) {
          if (b.confirm[key].text.length > 30) problems.push(`${at}: confirm.${key} over 30`);
        }
      }
    });
  });
  return problems;
}

/** A thread reply for timeline entries. */
export function renderThreadUpdate(lines: string[]): SlackMessage {
  const text = lines.join('\n');
  return { text: clip(text, 3000), blocks: [{ type: 'section', text: md(clip(escapeMrkdwn(text), 3000)) }] };
}

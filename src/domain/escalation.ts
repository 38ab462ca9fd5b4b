import { durationMs, formatDuration } from './duration';
import type { Channel, EscalationTarget, PolicySnapshot } from './escalation-policy';
import { isWorse, type Severity } from './severity';

export type { PolicySnapshot };
type PolicyLevel = PolicySnapshot['levels'][number];
type PageChannel = Channel;
type PageTarget = EscalationTarget;

/** Stable short key of a target, used in page idempotency keys and the timeline. */
export function targetKey(target: PageTarget): string {
  if ('person' in target) return `person:${target.person}`;
  if ('role' in target) return `role:${target.role}`;
  if ('schedule' in target) return `schedule:${target.schedule}`;
  if ('slack_channel' in target) return `slack:${target.slack_channel}`;
  return `webhook:${target.webhook}`;
}

/** Human text for a target: "primary", "alice", "#data-incidents". */
export function targetLabel(target: PageTarget): string {
  if ('person' in target) return target.person;
  if ('role' in target) return target.role;
  if ('schedule' in target) return `on-call of ${target.schedule}`;
  if ('slack_channel' in target)
    return target.slack_channel === '$incident' ? 'the incident channel' : target.slack_channel;
  return `webhook ${target.webhook}`;
}

const CHANNEL_TEXT: Record<PageChannel, string> = {
  slack: 'Slack',
  sms: 'SMS',
  phone: 'phone call',
  pagerduty: 'PagerDuty',
  webhook: 'webhook',
};

/** "SMS + Slack to primary" */
export function levelDescription(level: PolicyLevel): string {
  const channels = level.channels.map((c) => CHANNEL_TEXT[c]).join(' + ');
  return `${channels} to ${level.targets.map(targetLabel).join(', ')}`;
}

/** Escalation state carried in the incident (absolute times in epoch ms). */
export interface EscalationState {
  policy: string;
  /** Highest level paged in the current loop (1-based); 0 before the first page. */
  level: number;
  /** Completed repeat loops. */
  loop: number;
  /** When each level of the current loop was paged. */
  pagedAt: Record<string, number>;
  /** Highest level ever reached (for the record and the search attribute). */
  highestLevel: number;
  exhausted: boolean;
}

export function initialEscalation(policy: PolicySnapshot): EscalationState {
  return { policy: policy.name, level: 0, loop: 0, pagedAt: {}, highestLevel: 0, exhausted: false };
}

/** Facts about the incident the escalation plan depends on. */
export interface EscalationFacts {
  openedAt: number;
  lastProgressAt: number;
  severity: Severity;
  acknowledged: boolean;
}

/** What the escalation should do next. */
export type EscalationPlan =
  | {
      kind: 'page';
      levels: number[];
      at: number;
      reason: 'scheduled' | 'no_progress' | 'severity_rule' | 'repeat';
    }
  | { kind: 'done' };

/**
 * Plans the next escalation step (pure). Level 1 fires `delay` after the incident opens; level n+1 fires
 * `delay` after the instant named by its `since`. While acknowledged, escalation waits for
 * `noProgressTimeout` without progress, then pages the next level. A severity rule jumps to its level at
 * once, paging skipped levels too. After the last level, `repeat` restarts from level 1 once
 * `no_progress_timeout` has passed (within a round, `opened` means the round's start).
 */
export function planEscalation(
  policy: PolicySnapshot,
  state: EscalationState,
  facts: EscalationFacts,
): EscalationPlan {
  const levels = policy.levels;
  const count = levels.length;

  const jump = policy.severity_rules
    .filter((r) => r.severity === facts.severity || isWorse(facts.severity, r.severity))
    .reduce((max, r) => Math.max(max, Math.min(r.jump_to_level, count)), 0);
  if (jump > state.level && state.loop === 0) {
    const skipped = range(state.level + 1, jump);
    return { kind: 'page', levels: skipped, at: facts.openedAt, reason: 'severity_rule' };
  }

  if (state.level >= count) {
    if (state.loop >= policy.repeat) return { kind: 'done' };
    const base = state.pagedAt[String(count)] ?? facts.openedAt;
    return { kind: 'page', levels: [1], at: base + durationMs(policy.no_progress_timeout), reason: 'repeat' };
  }

  const nextLevel = state.level + 1;
  if (facts.acknowledged) {
    if (state.level === 0) return { kind: 'done' };
    const base = Math.max(facts.lastProgressAt, state.pagedAt[String(state.level)] ?? facts.openedAt);
    return {
      kind: 'page',
      levels: [nextLevel],
      at: base + durationMs(policy.no_progress_timeout),
      reason: 'no_progress',
    };
  }
  const spec = levels[nextLevel - 1]!;
  const previousPage = state.pagedAt[String(state.level)] ?? facts.openedAt;
  // In a repeat loop, "opened" means the start of the loop (when level 1 was paged again).
  const loopStart = state.loop === 0 ? facts.openedAt : (state.pagedAt['1'] ?? facts.openedAt);
  const base =
    state.level === 0 || spec.since === 'opened'
      ? loopStart
      : spec.since === 'last_progress'
        ? Math.max(facts.lastProgressAt, previousPage)
        : previousPage;
  return { kind: 'page', levels: [nextLevel], at: base + durationMs(spec.delay), reason: 'scheduled' };
}

/** Applies "these levels were paged at `at`" to the state. */
export function markPaged(
  policy: PolicySnapshot,
  state: EscalationState,
  levels: number[],
  at: number,
): void {
  for (const level of levels) {
    if (level === 1 && state.level >= policy.levels.length) {
      state.loop += 1;
      state.pagedAt = {};
    }
    state.level = level;
    state.pagedAt[String(level)] = at;
    state.highestLevel = Math.max(state.highestLevel, level);
  }
  state.exhausted = state.level >= policy.levels.length && state.loop >= policy.repeat;
}

/** Levels to page when someone asks to escalate: the given one, or the next (wrapping is not allowed). */
export function requestedLevels(policy: PolicySnapshot, state: EscalationState, level?: number): number[] {
  const target = Math.min(policy.levels.length, Math.max(1, level ?? state.level + 1));
  if (target <= state.level) return [];
  return range(state.level + 1, target);
}

/** Timer summary for the Web UI: "L2 in 10m: SMS + Slack to primary". */
export function planSummary(policy: PolicySnapshot, plan: EscalationPlan, now: number): string {
  if (plan.kind === 'done') return 'escalation finished';
  const last = plan.levels[plan.levels.length - 1]!;
  const level = policy.levels[last - 1]!;
  const wait = formatDuration(Math.max(0, plan.at - now));
  const why = plan.reason === 'no_progress' ? ' (no progress)' : plan.reason === 'repeat' ? ' (repeat)' : '';
  return `L${last} in ${wait}${why}: ${levelDescription(level)}`;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

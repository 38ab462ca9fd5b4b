import { z } from 'zod';
import { Duration } from './duration';
import { ConfigId, EscalationTarget } from './escalation-target';
import { type OncallConfig, rolePeople, schedulePeople } from './oncall';
import { isWorse, Severity } from './severity';

export { EscalationTarget, describeTarget, INCIDENT_CHANNEL } from './escalation-target';

/** How a level reaches its targets. `slack` to a person is a direct message. */
export const Channel = z.enum(['slack', 'sms', 'phone', 'pagerduty', 'webhook']);
export type Channel = z.infer<typeof Channel>;

/**
 * The instant a level's `delay` counts from: the previous level's page time, the incident's open time (the
 * round's start when repeating), or the last progress (acknowledgement, status change, runbook step, note;
 * the previous level's page time while there has been none).
 */
export const LevelSince = z.enum(['previous_level', 'opened', 'last_progress']);
export type LevelSince = z.infer<typeof LevelSince>;

/** One rung of the ladder. Level 1 is paged `delay` after the incident opens, whatever its `since`. */
export const EscalationLevel = z.strictObject({
  /** Shown in timelines and Slack; defaults to `L<n>`. */
  name: z.string().min(1).optional(),
  delay: Duration,
  since: LevelSince.default('previous_level'),
  targets: z.array(EscalationTarget).min(1),
  channels: z.array(Channel).min(1),
});
export type EscalationLevel = z.infer<typeof EscalationLevel>;

/** Jump straight to a level when the incident is, or becomes, this severity or worse. */
export const SeverityRule = z.strictObject({ severity: Severity, jump_to_level: z.int().min(1) });
export type SeverityRule = z.infer<typeof SeverityRule>;

function duplicates<T>(values: readonly T[]): { index: number; value: T; first: number }[] {
  const seen = new Map<T, number>();
  const found: { index: number; value: T; first: number }[] = [];
  values.forEach((value, index) => {
    const first = seen.get(value);
    if (first === undefined) seen.set(value, index);
    else found.push({ index, value, first });
  });
  return found;
}

/** An escalation policy: the ladder, how acknowledgement and repetition work, and severity shortcuts. */
export const EscalationPolicy = z
  .strictObject({
    description: z.string().optional(),
    levels: z.array(EscalationLevel).min(1),
    /** Rounds after the first: the ladder restarts from level 1 after the last level, at most 5 times. */
    repeat: z.int().min(0).max(5).default(0),
    /** An acknowledgement holds escalation until this long passes without progress. */
    no_progress_timeout: Duration.default('30m'),
    /** When a channel fails for good for a person, the next one here not yet tried at that level is used. */
    fallback_channels: z.array(Channel).default(['slack', 'sms', 'phone']),
    severity_rules: z.array(SeverityRule).default([]),
  })
  .superRefine((policy, ctx) => {
    policy.levels.forEach((level, i) => {
      for (const d of duplicates(level.channels)) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i, 'channels', d.index],
          message: `duplicate channel "${d.value}"`,
        });
      }
    });
    for (const d of duplicates(policy.levels.map((l, i) => l.name ?? `L${i + 1}`))) {
      ctx.addIssue({
        code: 'custom',
        path: ['levels', d.index, 'name'],
        message: `duplicate level name "${d.value}" (first at levels.${d.first})`,
      });
    }
    policy.fallback_channels.forEach((channel, i) => {
      if (channel === 'webhook') {
        ctx.addIssue({
          code: 'custom',
          path: ['fallback_channels', i],
          message: 'webhook cannot be a fallback channel: it has no per-person address',
        });
      }
    });
    for (const d of duplicates(policy.fallback_channels)) {
      ctx.addIssue({
        code: 'custom',
        path: ['fallback_channels', d.index],
        message: `duplicate channel "${d.value}"`,
      });
    }
    policy.severity_rules.forEach((rule, i) => {
      if (rule.jump_to_level > policy.levels.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['severity_rules', i, 'jump_to_level'],
          message: `level ${rule.jump_to_level} does not exist (the policy has ${policy.levels.length} levels)`,
        });
      }
    });
    for (const d of duplicates(policy.severity_rules.map((r) => r.severity))) {
      ctx.addIssue({
        code: 'custom',
        path: ['severity_rules', d.index, 'severity'],
        message: `duplicate rule for severity ${d.value} (first at severity_rules.${d.first})`,
      });
    }
  });
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

/** `config/escalation-policies.yaml`: named policies; routing picks one by name, `default` otherwise. */
export const EscalationPoliciesConfig = z
  .strictObject({ policies: z.record(ConfigId, EscalationPolicy) })
  .superRefine((cfg, ctx) => {
    if (!Object.hasOwn(cfg.policies, 'default')) {
      ctx.addIssue({ code: 'custom', path: ['policies'], message: 'missing required policy "default"' });
    }
  });
export type EscalationPoliciesConfig = z.infer<typeof EscalationPoliciesConfig>;

/**
 * A policy as a workflow input: plain JSON with every default applied (level names included), taken when
 * the incident starts so later edits to the YAML do not change running incidents.
 */
export const PolicySnapshot = z.strictObject({
  /** The policy's name in the config. */
  name: z.string(),
  description: z.string().optional(),
  levels: z
    .array(
      z.strictObject({
        name: z.string(),
        delay: Duration,
        since: LevelSince,
        targets: z.array(EscalationTarget).min(1),
        channels: z.array(Channel).min(1),
      }),
    )
    .min(1),
  repeat: z.int().min(0).max(5),
  no_progress_timeout: Duration,
  fallback_channels: z.array(Channel),
  severity_rules: z.array(SeverityRule),
});
export type PolicySnapshot = z.infer<typeof PolicySnapshot>;

/** The snapshot of a named policy, or undefined when there is no such policy. */
export function snapshotPolicy(config: EscalationPoliciesConfig, name: string): PolicySnapshot | undefined {
  if (!Object.hasOwn(config.policies, name)) return undefined;
  const policy = config.policies[name]!;
  const snapshot: PolicySnapshot = {
    name,
    levels: policy.levels.map((level, i) => ({
      name: level.name ?? `L${i + 1}`,
      delay: level.delay,
      since: level.since,
      targets: level.targets.map((t) => ({ ...t })),
      channels: [...level.channels],
    })),
    repeat: policy.repeat,
    no_progress_timeout: policy.no_progress_timeout,
    fallback_channels: [...policy.fallback_channels],
    severity_rules: policy.severity_rules.map((r) => ({ ...r })),
  };
  if (policy.description !== undefined) snapshot.description = policy.description;
  return snapshot;
}

/**
 * The level (1-based) a severity jumps to at once: the highest `jump_to_level` among the rules whose
 * severity the incident's equals or is worse than; undefined when no rule applies.
 */
export function jumpLevelFor(
  policy: Pick<EscalationPolicy, 'severity_rules'>,
  severity: Severity,
): number | undefined {
  let level: number | undefined;
  for (const rule of policy.severity_rules) {
    if (!isWorse(rule.severity, severity) && (level === undefined || rule.jump_to_level > level)) {
      level = rule.jump_to_level;
    }
  }
  return level;
}

/** A problem found by {@link checkPolicyReferences}; `path` is dotted from the file's root. */
export interface ReferenceProblem {
  path: string;
  message: string;
}

const CONTACT_FOR: Partial<Record<Channel, 'phone' | 'slack_user_id'>> = {
  sms: 'phone',
  phone: 'phone',
  slack: 'slack_user_id',
};

/**
 * Checks policies against `config/oncall.yaml`: every target names an existing person, role, schedule or
 * webhook; a `slack_channel` target comes with the `slack` channel and a `webhook` target with `webhook`;
 * `sms`/`phone`/`slack` have people to reach and every person a target can resolve to has the contact
 * those channels need (a phone, a Slack user id); the `webhook` channel has a webhook target.
 */
export function checkPolicyReferences(
  policies: EscalationPoliciesConfig,
  oncall: OncallConfig,
): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  for (const [name, policy] of Object.entries(policies.policies)) {
    policy.levels.forEach((level, i) => {
      const at = `policies.${name}.levels.${i}`;
      let reachesPeople = false;
      let hasChannelTarget = false;
      let hasWebhookTarget = false;
      level.targets.forEach((target, j) => {
        const path = `${at}.targets.${j}`;
        let people: string[] = [];
        let via = '';
        // An unknown reference is reported once; the channel checks below still count it as people.
        reachesPeople ||= 'person' in target || 'role' in target || 'schedule' in target;
        if ('person' in target) {
          if (!Object.hasOwn(oncall.people, target.person)) {
            problems.push({ path, message: `unknown person "${target.person}"` });
            return;
          }
          people = [target.person];
        } else if ('role' in target) {
          if (!Object.hasOwn(oncall.roles, target.role)) {
            problems.push({ path, message: `unknown role "${target.role}"` });
            return;
          }
          people = rolePeople(oncall, target.role);
          via = `role "${target.role}" can resolve to `;
        } else if ('schedule' in target) {
          if (!Object.hasOwn(oncall.schedules, target.schedule)) {
            problems.push({ path, message: `unknown schedule "${target.schedule}"` });
            return;
          }
          people = schedulePeople(oncall.schedules[target.schedule]!);
          via = `schedule "${target.schedule}" can resolve to `;
        } else if ('webhook' in target) {
          hasWebhookTarget = true;
          if (!Object.hasOwn(oncall.webhooks, target.webhook)) {
            problems.push({ path, message: `unknown webhook "${target.webhook}"` });
          } else if (!level.channels.includes('webhook')) {
            problems.push({ path, message: 'a webhook target needs the webhook channel in channels' });
          }
          return;
        } else {
          hasChannelTarget = true;
          if (!level.channels.includes('slack')) {
            problems.push({ path, message: 'a slack_channel target needs the slack channel in channels' });
          }
          return;
        }
        for (const id of people) {
          const person = oncall.people[id];
          if (!person) continue;
          for (const contact of ['phone', 'slack_user_id'] as const) {
            const needing = level.channels.filter((c) => CONTACT_FOR[c] === contact);
            if (needing.length === 0 || person[contact] !== undefined) continue;
            const who = via === '' ? `person "${id}"` : `${via}person "${id}", who`;
            problems.push({ path, message: `${who} has no ${contact} (needed for ${needing.join(', ')})` });
          }
        }
      });
      level.channels.forEach((channel, c) => {
        const path = `${at}.channels.${c}`;
        if ((channel === 'sms' || channel === 'phone') && !reachesPeople) {
          problems.push({ path, message: `${channel} needs a person, role or schedule target` });
        } else if (channel === 'slack' && !reachesPeople && !hasChannelTarget) {
          problems.push({ path, message: 'slack needs a slack_channel, person, role or schedule target' });
        } else if (channel === 'webhook' && !hasWebhookTarget) {
          problems.push({ path, message: 'the webhook channel needs a webhook target' });
        }
      });
    });
  }
  return problems;
}

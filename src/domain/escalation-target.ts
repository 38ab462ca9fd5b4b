import { z } from 'zod';

/** Ids of people, schedules, roles, webhooks and policies in config files. */
export const ConfigId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be an id of letters, digits, "_", "." or "-"');
export type ConfigId = z.infer<typeof ConfigId>;

/** The `slack_channel` value that means the incident's own channel (as routed, else the default). */
export const INCIDENT_CHANNEL = '$incident';

export const SlackChannelRef = z
  .string()
  .regex(
    /^(\$incident|#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,})$/,
    'must be "#channel-name", a channel id such as "C0123ABCD", or "$incident" (the incident\'s channel)',
  );

/**
 * Who or what an escalation level pages: one person, a role from `config/oncall.yaml` (resolved at page
 * time), whoever is on call for a schedule, a Slack channel, or a named outbound webhook.
 */
export const EscalationTarget = z.union(
  [
    z.strictObject({ person: ConfigId }),
    z.strictObject({ role: ConfigId }),
    z.strictObject({ schedule: ConfigId }),
    z.strictObject({ slack_channel: SlackChannelRef }),
    z.strictObject({ webhook: ConfigId }),
  ],
  { error: 'must be exactly one of { person }, { role }, { schedule }, { slack_channel } or { webhook }' },
);
export type EscalationTarget = z.infer<typeof EscalationTarget>;

/** A short human description of a target for timelines: `role primary`, `#data-incidents`. */
export function describeTarget(target: EscalationTarget): string {
  if ('person' in target) return `person ${target.person}`;
  if ('role' in target) return `role ${target.role}`;
  if ('schedule' in target) return `schedule ${target.schedule}`;
  if ('slack_channel' in target) {
    return target.slack_channel === INCIDENT_CHANNEL ? 'the incident channel' : target.slack_channel;
  }
  return `webhook ${target.webhook}`;
}

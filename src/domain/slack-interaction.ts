import { z } from 'zod';

/** A `block_actions` interaction payload (parsed loosely: Slack adds fields over time). */
export const BlockActionsPayload = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({
    id: z.string().min(1),
    username: z.string().optional(),
    name: z.string().optional(),
  }),
  team: z.looseObject({ id: z.string() }).optional(),
  container: z
    .looseObject({ message_ts: z.string().optional(), channel_id: z.string().optional() })
    .optional(),
  channel: z.looseObject({ id: z.string() }).optional(),
  message: z.looseObject({ ts: z.string() }).optional(),
  response_url: z.string().url().optional(),
  trigger_id: z.string().optional(),
  actions: z
    .array(
      z.looseObject({
        action_id: z.string().min(1),
        block_id: z.string().optional(),
        value: z.string().optional(),
        action_ts: z.string().min(1),
      }),
    )
    .min(1),
});
export type BlockActionsPayload = z.infer<typeof BlockActionsPayload>;

/** A slash command request (form fields). */
export const SlashCommand = z.looseObject({
  command: z.string().min(1),
  text: z.string().default(''),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().optional(),
  response_url: z.string().url().optional(),
  trigger_id: z.string().optional(),
});
export type SlashCommand = z.infer<typeof SlashCommand>;

/** `/incident list | show <id> | ack <id> | resolve <id> <note>` */
export type IncidentCommand =
  | { kind: 'list'; status: 'open' | 'resolved' | 'all' }
  | { kind: 'show'; id: string }
  | { kind: 'ack'; id: string }
  | { kind: 'resolve'; id: string; note: string }
  | { kind: 'help'; error?: string };

export const INCIDENT_COMMAND_HELP =
  'Usage: `/incident list [open|resolved|all]` · `/incident show <id>` · `/incident ack <id>` · `/incident resolve <id> <note>`';

/** Parses the text after `/incident`. Ids are incident numbers (`INC-20261125-003`) or workflow ids. */
export function parseIncidentCommand(text: string): IncidentCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, id, ...rest] = words;
  switch ((verb ?? 'help').toLowerCase()) {
    case 'list': {
      const status = (id ?? 'open').toLowerCase();
      if (status !== 'open' && status !== 'resolved' && status !== 'all') {
        return { kind: 'help', error: `unknown status "${id}" (open, resolved or all)` };
      }
      return { kind: 'list', status };
    }
    case 'show':
      return id ? { kind: 'show', id } : { kind: 'help', error: 'show needs an incident id' };
    case 'ack':
    case 'acknowledge':
      return id ? { kind: 'ack', id } : { kind: 'help', error: 'ack needs an incident id' };
    case 'resolve':
      if (!id) return { kind: 'help', error: 'resolve needs an incident id and a note' };
      if (rest.length === 0)
        return { kind: 'help', error: 'resolve needs a note: /incident resolve <id> <note>' };
      return { kind: 'resolve', id, note: rest.join(' ') };
    case 'help':
      return { kind: 'help' };
    default:
      return { kind: 'help', error: `unknown subcommand "${verb}"` };
  }
}

import { randomUUID } from 'node:crypto';
import type { SlackClient } from '../../adapters/slack';
import {
  BlockActionsPayload,
  INCIDENT_COMMAND_HELP,
  type IncidentCommand,
  parseIncidentCommand,
  SlashCommand,
} from '../../domain/slack-interaction';
import { decodeActionValue, escapeMrkdwn, SlackAction } from '../../domain/slack-message';
import { isTemporalUnavailable } from '../../temporal/client';
import { type IncidentActions, IncidentNotFound, type PersonAction } from '../incident-actions';
import { ephemeral, formatIncidentList, formatIncidentView, outcomeText, type SlackReply } from './replies';
import { RequestMemory } from './request-memory';

/** The part of the incident actions port Slack uses. */
export type SlackIncidentPort = Pick<IncidentActions, 'act' | 'view' | 'list'>;

/** Structured logger (pino and fastify's `app.log` fit). Never given secrets, tokens or response URLs. */
export interface SlackLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** How replies reach Slack: `respond` (response_url), else `postEphemeral` when the channel is known. */
export type SlackReplier = Pick<SlackClient, 'respond'> & Partial<Pick<SlackClient, 'postEphemeral'>>;

export interface SlackHandlersOptions {
  actions: SlackIncidentPort;
  /** Delivers ephemeral follow-ups. Without it the outcome is only logged. */
  client?: SlackReplier;
  log?: SlackLogger;
  /** Request ids remembered for retry detection (default 5000). */
  memoryCapacity?: number;
  /** How long a slash command may work before it answers "working on it" and follows up (default 2500 ms). */
  commandBudgetMs?: number;
  /** Incidents listed by `/incident list` (default 20). */
  listLimit?: number;
}

/** What one button click came to. */
export type ClickOutcome = 'acted' | 'pending' | 'refused' | 'failed' | 'duplicate' | 'ignored';

export interface ClickResult {
  actionId: string;
  outcome: ClickOutcome;
  requestId?: string;
  /** The ephemeral reply sent to the clicker (none for duplicates and ignored actions). */
  reply?: SlackReply;
  /** Whether the reply reached Slack. */
  delivered?: boolean;
}

/** What a button asks for, decided from its `action_id` and `value` alone. */
export type ClickPlan =
  | { kind: 'act'; incident: string; action: PersonAction }
  | { kind: 'invalid'; message: string }
  | { kind: 'ignore' };

const RUN_RUNBOOK_PREFIX = `${SlackAction.runRunbook}:`;

/** Maps one clicked button to a person action on an incident (pure). Buttons not ours are ignored. */
export function planClick(action: { action_id: string; value?: string | undefined }): ClickPlan {
  const id = action.action_id;
  const runsRunbook = id === SlackAction.runRunbook || id.startsWith(RUN_RUNBOOK_PREFIX);
  const known: readonly string[] = Object.values(SlackAction);
  if (!runsRunbook && !known.includes(id)) return { kind: 'ignore' };
  const value = decodeActionValue(action.value);
  if (!value) return { kind: 'invalid', message: 'This button does not name an incident.' };
  const act = (a: PersonAction): ClickPlan => ({ kind: 'act', incident: value.i, action: a });
  if (runsRunbook) {
    const runbook = value.r ?? (id.startsWith(RUN_RUNBOOK_PREFIX) ? id.slice(RUN_RUNBOOK_PREFIX.length) : '');
    return runbook
      ? act({ kind: 'run_runbook', runbook })
      : { kind: 'invalid', message: 'This button does not name a runbook.' };
  }
  switch (id) {
    case SlackAction.acknowledge:
      return act({ kind: 'acknowledge' });
    case SlackAction.approve:
    case SlackAction.reject:
      return value.s
        ? act({ kind: id === SlackAction.approve ? 'approve' : 'reject', stepId: value.s })
        : { kind: 'invalid', message: 'This button does not name an approval step.' };
    case SlackAction.investigate:
      return act({ kind: 'investigate' });
    case SlackAction.resolve:
      return act({ kind: 'resolve', note: 'resolved from Slack' });
    default:
      return { kind: 'ignore' };
  }
}

const UNREACHABLE =
  '⚠️ The incident engine is unreachable right now: nothing was done. Try again in a minute.';
const BROKEN = '⚠️ Something went wrong: this may not have been recorded. Check with `/incident show <id>`.';

/** The request id of a click: Slack retries repeat it, a second click gets its own `action_ts`. */
export function clickRequestId(user: string, actionTs: string): string {
  return `slack:${user}:${actionTs}`;
}

const silentInfo = (): void => undefined;
const consoleLogger: SlackLogger = {
  info: silentInfo,
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', msg, ...obj })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
};

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The Slack ChatOps handling, independent of the transport (HTTP endpoints or Socket Mode). A click is
 * sent through the incident actions port (the workflow authorizes it and records refusals) and its
 * outcome goes back to the clicker as an ephemeral reply through the payload's `response_url`. Each click
 * carries the request id `slack:<user>:<action_ts>`; ids already taken on in this process are skipped, and
 * the workflow skips repeats across processes.
 */
export function createSlackHandlers(options: SlackHandlersOptions) {
  const { actions, client } = options;
  const log = options.log ?? consoleLogger;
  const memory = new RequestMemory(options.memoryCapacity ?? 5_000);
  const budgetMs = options.commandBudgetMs ?? 2_500;
  const listLimit = options.listLimit ?? 20;
  const inFlight = new Set<Promise<unknown>>();

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Sends an ephemeral reply: `response_url` first, `chat.postEphemeral` as the fallback. */
  async function deliver(
    to: { responseUrl?: string | undefined; channel?: string | undefined; user: string },
    reply: SlackReply,
    context: Record<string, unknown>,
  ): Promise<boolean> {
    if (!client) {
      log.warn(context, 'slack reply not sent: no Slack client configured');
      return false;
    }
    if (to.responseUrl) {
      try {
        await client.respond(to.responseUrl, { ...reply, replace_original: false });
        return true;
      } catch (err) {
        log.warn({ ...context, error: errorText(err) }, 'slack reply through response_url failed');
      }
    }
    if (to.channel && client.postEphemeral) {
      try {
        await client.postEphemeral({ channel: to.channel, user: to.user, text: reply.text });
        return true;
      } catch (err) {
        log.warn({ ...context, error: errorText(err) }, 'slack ephemeral reply failed');
      }
    }
    return false;
  }

  /** Runs an action through the port and words the outcome; failures become replies too. */
  async function perform(
    incident: string,
    action: PersonAction,
    user: string,
    requestId: string,
  ): Promise<{ outcome: ClickOutcome; reply: SlackReply }> {
    try {
      const result = await actions.act(incident, action, { user, via: 'slack', requestId });
      const outcome = result.pending ? 'pending' : result.ok ? 'acted' : 'refused';
      log.info({ requestId, incident, action: action.kind, outcome }, 'slack action handled');
      return { outcome, reply: ephemeral(outcomeText(result, user)) };
    } catch (err) {
      if (err instanceof IncidentNotFound) {
        return { outcome: 'refused', reply: ephemeral(`⛔ No such incident: ${escapeMrkdwn(incident)}`) };
      }
      // The action never reached the incident: a retry of the same request may try again.
      memory.release(requestId);
      const unreachable = isTemporalUnavailable(err);
      log.error(
        { requestId, incident, action: action.kind, error: errorText(err) },
        unreachable ? 'slack action not sent: Temporal unreachable' : 'slack action failed',
      );
      return { outcome: 'failed', reply: ephemeral(unreachable ? UNREACHABLE : BROKEN) };
    }
  }

  async function click(
    payload: BlockActionsPayload,
    action: BlockActionsPayload['actions'][number],
  ): Promise<ClickResult> {
    const actionId = action.action_id;
    const plan = planClick(action);
    if (plan.kind === 'ignore') return { actionId, outcome: 'ignored' };
    const user = payload.user.id;
    const requestId = clickRequestId(user, action.action_ts);
    // Claimed before the first await: a retry arriving while this one works is a duplicate.
    if (!memory.claim(requestId)) {
      log.info({ requestId, actionId }, 'slack retry of a handled click ignored');
      return { actionId, outcome: 'duplicate', requestId };
    }
    const { outcome, reply } =
      plan.kind === 'invalid'
        ? { outcome: 'refused' as const, reply: ephemeral(`⚠️ ${plan.message}`) }
        : await perform(plan.incident, plan.action, user, requestId);
    const channel = payload.channel?.id ?? payload.container?.channel_id;
    const delivered = await deliver({ responseUrl: payload.response_url, channel, user }, reply, {
      requestId,
      actionId,
    });
    return { actionId, outcome, requestId, reply, delivered };
  }

  /** Handles a `block_actions` payload: acts on each of our buttons and replies to the clicker. */
  function handleBlockActions(payload: BlockActionsPayload): Promise<ClickResult[]> {
    return track(Promise.all(payload.actions.map((a) => click(payload, a))));
  }

  /** Handles any interaction payload; only `block_actions` does something, other types are ignored. */
  function handleInteraction(payload: unknown): Promise<ClickResult[]> {
    if ((payload as { type?: unknown } | null)?.type !== 'block_actions') return Promise.resolve([]);
    const parsed = BlockActionsPayload.safeParse(payload);
    if (!parsed.success) {
      log.warn({ problems: parsed.error.issues.length }, 'unreadable block_actions payload ignored');
      return Promise.resolve([]);
    }
    return handleBlockActions(parsed.data);
  }

  async function runCommand(
    command: Exclude<IncidentCommand, { kind: 'help' }>,
    user: string,
    requestId: string,
  ): Promise<SlackReply> {
    switch (command.kind) {
      case 'ack':
        return (await perform(command.id, { kind: 'acknowledge' }, user, requestId)).reply;
      case 'resolve':
        return (await perform(command.id, { kind: 'resolve', note: command.note }, user, requestId)).reply;
      case 'list':
      case 'show':
        try {
          if (command.kind === 'list') {
            const incidents = await actions.list(command.status, listLimit);
            return ephemeral(formatIncidentList(command.status, incidents, listLimit));
          }
          return ephemeral(formatIncidentView(await actions.view(command.id)));
        } catch (err) {
          if (err instanceof IncidentNotFound) {
            return ephemeral(
              `⛔ No such incident: ${escapeMrkdwn(command.kind === 'show' ? command.id : '')}`,
            );
          }
          const unreachable = isTemporalUnavailable(err);
          log.error({ command: command.kind, error: errorText(err) }, 'slash command failed');
          return ephemeral(unreachable ? UNREACHABLE : BROKEN);
        }
    }
  }

  /**
   * Handles `/incident …`. Returns the reply for the HTTP response (or the Socket Mode ack) within the
   * budget; work that takes longer answers "working on it" and follows up through `response_url`.
   */
  async function handleSlashCommand(input: unknown): Promise<SlackReply> {
    const parsed = SlashCommand.safeParse(input);
    if (!parsed.success) return ephemeral(`⚠️ This command could not be read.\n${INCIDENT_COMMAND_HELP}`);
    const cmd = parsed.data;
    const command = parseIncidentCommand(cmd.text);
    if (command.kind === 'help') {
      const problem = command.error
        ? `⚠️ ${command.error.charAt(0).toUpperCase()}${command.error.slice(1)}.\n`
        : '';
      return ephemeral(`${problem}${INCIDENT_COMMAND_HELP}`);
    }
    const requestId = `slack:${cmd.user_id}:cmd:${cmd.trigger_id ?? randomUUID()}`;
    if ((command.kind === 'ack' || command.kind === 'resolve') && !memory.claim(requestId)) {
      return ephemeral('⏳ This command was already received.');
    }
    const work = track(runCommand(command, cmd.user_id, requestId));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), budgetMs);
    });
    const first = await Promise.race([work, late]);
    clearTimeout(timer);
    if (first) return first;
    void track(
      work.then((reply) =>
        deliver({ responseUrl: cmd.response_url, channel: cmd.channel_id, user: cmd.user_id }, reply, {
          requestId,
          command: command.kind,
        }),
      ),
    );
    return ephemeral(`⏳ Working on \`${command.kind}\`: the answer follows here.`);
  }

  return {
    handleInteraction,
    handleBlockActions,
    handleSlashCommand,
    /** Waits until every click and follow-up in flight has finished (tests, graceful shutdown). */
    async drain(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

export type SlackHandlers = ReturnType<typeof createSlackHandlers>;

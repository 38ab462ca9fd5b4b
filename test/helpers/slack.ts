import { Registry } from 'prom-client';
import { buildApp } from '../../src/api/app';
import type { AppDeps } from '../../src/api/deps';
import {
  type ActionContext,
  type ActionResult,
  IncidentNotFound,
  type IncidentSummary,
  type PersonAction,
} from '../../src/api/incident-actions';
import { ingestTokenHook } from '../../src/api/ingest-auth';
import { createMemoryDeploymentRecorder } from '../../src/api/memory-deployments';
import {
  createSlackHandlers,
  type SlackHandlersOptions,
  type SlackIncidentPort,
  type SlackLogger,
} from '../../src/api/slack/handlers';
import { signSlackRequest } from '../../src/api/slack/signature';
import {
  type Approver,
  type ApprovalState,
  applyDecision,
  findApprover,
  refusalMessage,
} from '../../src/domain/approval';
import type { IncidentView } from '../../src/domain/incident-view';
import { encodeActionValue } from '../../src/domain/slack-message';
import type { IncidentStarter } from '../../src/ingest/incident-starter';
import { createApiMetrics } from '../../src/metrics/registry';
import type { TemporalClient } from '../../src/temporal/client';

export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

/** People as the workflow knows them (oncall.yaml): Slack ids map to people. */
export const ALICE: Approver = {
  personId: 'alice',
  name: 'Alice Kim',
  slackUserId: 'U0ALICE',
  via: 'person',
};
export const FRANK: Approver = {
  personId: 'frank',
  name: 'Frank Lee',
  slackUserId: 'U0FRANK',
  via: 'role:primary',
};
export const BOB_SLACK_ID = 'U0BOB';

interface FakeIncident {
  id: string;
  number: string;
  status: 'investigating' | 'awaiting_approval' | 'resolved';
  acknowledgedBy?: string;
  investigator?: string;
  approval?: ApprovalState;
  runbooks: string[];
  processed: Map<string, { ok: boolean; message: string }>;
}

export interface PortCall {
  ref: string;
  action: PersonAction;
  ctx: ActionContext;
}

/**
 * An in-memory stand-in for the incident actions port that answers like the incident workflow does:
 * request ids act once (a repeat gets the recorded outcome), approvals go through the domain's
 * `applyDecision` (approver lists, one decision per person), a closed incident refuses everything.
 */
export class FakeIncidentPort {
  readonly calls: PortCall[] = [];
  readonly incidents = new Map<string, FakeIncident>();
  /** When set, `act` fails with this error (Temporal unreachable, …). */
  failWith?: Error;
  /** Delay before `act` / `view` / `list` answer (ms). */
  delayMs = 0;

  addIncident(id: string, number: string, withApproval = true): FakeIncident {
    const incident: FakeIncident = {
      id,
      number,
      status: withApproval ? 'awaiting_approval' : 'investigating',
      runbooks: [],
      processed: new Map(),
      ...(withApproval
        ? {
            approval: {
              stepId: 'rollback_approval',
              prompt: 'Roll back deployment airflow-workers to v2.3.0?',
              status: 'pending',
              allowed: [ALICE, FRANK],
              minApprovals: 1,
              requestedAt: '2026-11-25T09:30:00.000Z',
              deadlineAt: Date.parse('2026-11-25T10:00:00.000Z'),
              decisions: [],
              refusals: [],
            },
          }
        : {}),
    };
    this.incidents.set(id, incident);
    return incident;
  }

  private find(ref: string): FakeIncident {
    for (const i of this.incidents.values()) if (i.id === ref || i.number === ref) return i;
    throw new IncidentNotFound(ref);
  }

  private name(user: string): string {
    return findApprover([ALICE, FRANK], user)?.name ?? user;
  }

  private async wait(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
  }

  async act(ref: string, action: PersonAction, ctx: ActionContext): Promise<ActionResult> {
    this.calls.push({ ref, action, ctx });
    await this.wait();
    if (this.failWith) throw this.failWith;
    const inc = this.find(ref);
    const seen = inc.processed.get(ctx.requestId);
    if (seen) return { ...seen, incidentId: inc.id };
    const outcome = this.apply(inc, action, ctx.user);
    inc.processed.set(ctx.requestId, outcome);
    return { ...outcome, incidentId: inc.id };
  }

  private apply(inc: FakeIncident, action: PersonAction, user: string): { ok: boolean; message: string } {
    const who = this.name(user);
    const closed = inc.status === 'resolved';
    switch (action.kind) {
      case 'acknowledge':
        if (closed) return { ok: false, message: `incident is already ${inc.status}` };
        if (inc.acknowledgedBy) return { ok: true, message: `already acknowledged by ${inc.acknowledgedBy}` };
        inc.acknowledgedBy = who;
        return { ok: true, message: `acknowledged by ${who}; paging stopped` };
      case 'resolve':
        if (closed) return { ok: false, message: `incident is already ${inc.status}` };
        inc.status = 'resolved';
        return { ok: true, message: `resolved by ${who}` };
      case 'approve':
      case 'reject': {
        const approval = inc.approval?.stepId === action.stepId ? inc.approval : undefined;
        if (closed || !approval) {
          return { ok: false, message: refusalMessage(user, closed ? 'incident_closed' : 'unknown_step') };
        }
        const outcome = applyDecision(approval, { user, decision: action.kind }, new Date().toISOString());
        return { ok: outcome.kind !== 'refused', message: outcome.message };
      }
      case 'investigate':
        if (closed) return { ok: false, message: `incident is already ${inc.status}` };
        inc.investigator = who;
        return { ok: true, message: `${who} assigned; automation paused` };
      case 'run_runbook':
        inc.runbooks.push(action.runbook);
        return { ok: true, message: `runbook ${action.runbook} started` };
      case 'escalate':
      case 'resume':
      case 'comment':
        return { ok: true, message: 'done' };
    }
  }

  async view(ref: string): Promise<IncidentView> {
    await this.wait();
    if (this.failWith) throw this.failWith;
    const inc = this.find(ref);
    return makeView({
      incidentId: inc.id,
      number: inc.number,
      ...(inc.acknowledgedBy ? { acknowledgedBy: inc.acknowledgedBy } : {}),
      pendingApprovals:
        inc.approval?.status === 'pending' ? [{ ...inc.approval, runbook: 'rollback_deployment' }] : [],
    });
  }

  async list(status: 'open' | 'resolved' | 'all', limit = 100): Promise<IncidentSummary[]> {
    await this.wait();
    if (this.failWith) throw this.failWith;
    return [...this.incidents.values()]
      .filter((i) => status === 'all' || (status === 'resolved') === (i.status === 'resolved'))
      .slice(0, limit)
      .map((i) => ({
        incidentId: i.id,
        runId: 'run-1',
        executionStatus: i.status === 'resolved' ? 'COMPLETED' : 'RUNNING',
        status: i.status,
        severity: 'P1',
        service: 'dag-customer-etl',
        dedupKey: 'customer_etl',
        escalationLevel: 1,
        startedAt: '2026-11-25T09:15:00.000Z',
        closedAt: null,
      }));
  }
}

/** A complete incident view with sensible defaults. */
export function makeView(overrides: Partial<IncidentView> = {}): IncidentView {
  return {
    incidentId: 'incident:dag-customer-etl:customer_etl',
    number: 'INC-20261125-003',
    title: 'customer_etl failure',
    status: 'awaiting_approval',
    severity: 'P1',
    service: 'dag-customer-etl',
    incidentType: 'airflow_task_failure',
    dedupKey: 'customer_etl',
    openedAt: '2026-11-25T09:17:00.000Z',
    routing: {
      rule: 'airflow',
      runbook: 'rollback_deployment',
      escalationPolicy: 'default',
      slackChannel: null,
    },
    alerts: [],
    counters: { deliveries: 1, duplicates: 0, untrackedAlerts: 0, timelineDropped: 0 },
    timeline: [],
    runbookHistory: [],
    pendingApprovals: [],
    diagnosis: [],
    suggestions: [],
    automationPaused: false,
    links: { temporalUi: 'http://localhost:8233/namespaces/default/workflows/incident' },
    ...overrides,
  };
}

/** A `block_actions` payload like Slack sends for one button. */
export function blockActions(opts: {
  user: string;
  actionId: string;
  value?: string;
  actionTs: string;
  responseUrl?: string;
  channel?: string;
}): Record<string, unknown> {
  return {
    type: 'block_actions',
    team: { id: 'T1', domain: 'acme' },
    user: { id: opts.user, username: opts.user.toLowerCase(), team_id: 'T1' },
    api_app_id: 'A1',
    container: {
      type: 'message',
      message_ts: '1714557600.123456',
      channel_id: opts.channel ?? 'C0INCIDENTS',
      is_ephemeral: false,
    },
    trigger_id: '1234.5678.abcd',
    channel: { id: opts.channel ?? 'C0INCIDENTS', name: 'data-incidents' },
    message: { ts: '1714557600.123456', text: 'Incident', blocks: [] },
    ...(opts.responseUrl ? { response_url: opts.responseUrl } : {}),
    actions: [
      {
        type: 'button',
        action_id: opts.actionId,
        block_id: 'incident_actions_0',
        ...(opts.value !== undefined ? { value: opts.value } : {}),
        action_ts: opts.actionTs,
        text: { type: 'plain_text', text: 'Button' },
      },
    ],
  };
}

export const value = (i: string, extra: { r?: string; s?: string } = {}) =>
  encodeActionValue({ i, ...extra });

/** Form body and signed headers for a Slack request. */
export function signed(
  body: string,
  opts: { secret?: string; timestamp?: number } = {},
): { payload: string; headers: Record<string, string> } {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    payload: body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(opts.secret ?? SIGNING_SECRET, timestamp, body),
    },
  };
}

export const interactionBody = (payload: unknown): string =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** Records log lines of the handlers (and, through `stream`, of fastify). */
export function captureLogs(): { lines: string[]; log: SlackLogger; stream: { write(line: string): void } } {
  const lines: string[] = [];
  const put = (level: string) => (obj: Record<string, unknown>, msg: string) =>
    lines.push(JSON.stringify({ level, msg, ...obj }));
  return {
    lines,
    log: { info: put('info'), warn: put('warn'), error: put('error') },
    stream: { write: (line: string) => lines.push(line) },
  };
}

/**
 * The real API with the Slack endpoints wired to a port (the fake, or the real one in integration tests)
 * and a Slack client (the Slack double). Temporal and the incident starter are not used by `/slack/*`
 * and are left unusable.
 */
export function buildSlackApp(opts: {
  port: SlackIncidentPort;
  client?: SlackHandlersOptions['client'];
  secret?: string;
  handlerOptions?: Partial<SlackHandlersOptions>;
  logs?: ReturnType<typeof captureLogs>;
  slackDisabled?: boolean;
}) {
  const registry = new Registry();
  const metrics = createApiMetrics(registry);
  const handlers = createSlackHandlers({
    actions: opts.port,
    ...(opts.client ? { client: opts.client } : {}),
    ...(opts.logs ? { log: opts.logs.log } : {}),
    ...opts.handlerOptions,
  });
  const unusable = new Proxy(
    {},
    {
      get: (_t, key) => {
        throw new Error(`not available in Slack tests: ${String(key)}`);
      },
    },
  );
  const deps: AppDeps = {
    temporal: unusable as TemporalClient,
    starter: unusable as IncidentStarter,
    actions: opts.port as unknown as AppDeps['actions'],
    metrics,
    registry,
    requireIngestToken: ingestTokenHook(undefined, metrics),
    deployments: createMemoryDeploymentRecorder(),
    ...(opts.slackDisabled ? {} : { slack: { signingSecret: opts.secret ?? SIGNING_SECRET, handlers } }),
  };
  const app = buildApp(deps, opts.logs ? { logger: { level: 'trace', stream: opts.logs.stream } } : {});
  return { app, handlers };
}

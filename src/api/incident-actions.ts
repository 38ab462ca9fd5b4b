import { WorkflowNotFoundError } from '@temporalio/client';
import type { Store } from '../adapters/store';
import { isIncidentNumber } from '../domain/incident-record';
import type { IncidentView } from '../domain/incident-view';
import type { OncallConfig } from '../domain/oncall';
import type { TemporalClient } from '../temporal/client';
import {
  acknowledgeSignal,
  actionOutcomeQuery,
  approveSignal,
  commentSignal,
  escalateSignal,
  incidentQuery,
  investigateSignal,
  resolveSignal,
  resumeAutomationSignal,
  runRunbookSignal,
} from '../workflows/definitions';
import {
  EscalationLevelKey,
  IncidentKey,
  IncidentServiceKey,
  IncidentSeverityKey,
  IncidentStatusKey,
} from '../workflows/search-attributes';

/** What a person asks an incident to do (Slack buttons, slash commands, the REST API). */
export type PersonAction =
  | { kind: 'acknowledge'; comment?: string }
  | { kind: 'resolve'; note?: string }
  | { kind: 'escalate'; level?: number; reason?: string }
  | { kind: 'approve' | 'reject'; stepId: string; comment?: string }
  | { kind: 'investigate' }
  | { kind: 'resume' }
  | { kind: 'run_runbook'; runbook: string }
  | { kind: 'comment'; text: string };

export interface ActionContext {
  /** Person id or Slack user id; the workflow maps and authorizes it. */
  user: string;
  via: 'slack' | 'api' | 'cli';
  /** Idempotency key: the same request id acts once (Slack retries, double submits). */
  requestId: string;
}

/** The outcome a person is told. `pending`: the signal was delivered but no worker answered in time. */
export interface ActionResult {
  ok: boolean;
  message: string;
  pending?: boolean;
  incidentId: string;
}

export interface IncidentSummary {
  incidentId: string;
  runId: string;
  executionStatus: string;
  status: string | null;
  severity: string | null;
  service: string | null;
  dedupKey: string | null;
  escalationLevel: number | null;
  startedAt: string;
  closedAt: string | null;
}

/** Thrown for an incident reference that names nothing. */
export class IncidentNotFound extends Error {
  constructor(ref: string) {
    super(`no such incident: ${ref}`);
    this.name = 'IncidentNotFound';
  }
}

const VISIBILITY = {
  open: `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running'`,
  resolved: `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Completed'`,
  all: `WorkflowType = 'incidentWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`,
} as const;

/**
 * The one way people's actions reach incidents: a signal (the contract; durable even when no worker is
 * up), then a short wait for the workflow's recorded outcome of that request id so the person hears
 * whether it acted ("not an approver", "already acknowledged by …"). Used by Slack and the REST API.
 */
export function createIncidentActions(deps: {
  temporal: TemporalClient;
  store?: Store;
  outcomeWaitMs?: number;
  /** People from oncall.yaml: a Slack user id becomes the person's id and name in the signal. */
  people?: () => OncallConfig['people'];
}) {
  const { client } = deps.temporal;
  const waitMs = deps.outcomeWaitMs ?? 2_000;

  /** Maps a Slack user id or a person id to the person (id + display name) when known. */
  function person(user: string): { user: string; name?: string } {
    const people = deps.people?.() ?? {};
    if (Object.hasOwn(people, user)) return { user, name: people[user]!.name };
    const found = Object.entries(people).find(([, p]) => p.slack_user_id === user);
    return found ? { user: found[0], name: found[1].name } : { user };
  }

  /** Workflow id of an incident reference: a workflow id, or an incident number looked up in the store. */
  async function resolveRef(ref: string): Promise<string> {
    if (isIncidentNumber(ref)) {
      const stored = await deps.store?.getIncident(ref);
      if (!stored) throw new IncidentNotFound(ref);
      return stored.workflowId;
    }
    return ref;
  }

  async function send(workflowId: string, action: PersonAction, ctx: ActionContext): Promise<void> {
    const handle = client.workflow.getHandle(workflowId);
    const base = { ...person(ctx.user), via: ctx.via, requestId: ctx.requestId };
    const call = (): Promise<void> => {
      switch (action.kind) {
        case 'acknowledge':
          return handle.signal(acknowledgeSignal, {
            ...base,
            ...(action.comment ? { comment: action.comment } : {}),
          });
        case 'resolve':
          return handle.signal(resolveSignal, { ...base, ...(action.note ? { note: action.note } : {}) });
        case 'escalate':
          return handle.signal(escalateSignal, {
            ...base,
            ...(action.level !== undefined ? { level: action.level } : {}),
            ...(action.reason ? { reason: action.reason } : {}),
          });
        case 'approve':
        case 'reject':
          return handle.signal(approveSignal, {
            ...base,
            stepId: action.stepId,
            decision: action.kind,
            ...(action.comment ? { comment: action.comment } : {}),
          });
        case 'investigate':
          return handle.signal(investigateSignal, base);
        case 'resume':
          return handle.signal(resumeAutomationSignal, base);
        case 'run_runbook':
          return handle.signal(runRunbookSignal, { ...base, runbook: action.runbook });
        case 'comment':
          return handle.signal(commentSignal, { ...base, text: action.text });
      }
    };
    try {
      await deps.temporal.withDeadline(5_000, call);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new IncidentNotFound(workflowId);
      throw err;
    }
  }

  return {
    resolveRef,

    /** Sends the action and waits briefly for its outcome. */
    async act(ref: string, action: PersonAction, ctx: ActionContext): Promise<ActionResult> {
      const workflowId = await resolveRef(ref);
      await send(workflowId, action, ctx);
      const handle = client.workflow.getHandle(workflowId);
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline) {
        try {
          const outcome = await deps.temporal.withDeadline(Math.max(200, deadline - Date.now()), () =>
            handle.query(actionOutcomeQuery, ctx.requestId),
          );
          if (outcome) return { ok: outcome.ok, message: outcome.message, incidentId: workflowId };
        } catch {
          break; // no worker answering queries: the signal is durable, report it as pending
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return {
        ok: true,
        pending: true,
        message: 'request recorded; the incident will act on it shortly',
        incidentId: workflowId,
      };
    },

    /** The live view of an incident (from its workflow). */
    async view(ref: string): Promise<IncidentView> {
      const workflowId = await resolveRef(ref);
      try {
        return await deps.temporal.withDeadline(5_000, () =>
          client.workflow.getHandle(workflowId).query(incidentQuery),
        );
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new IncidentNotFound(ref);
        throw err;
      }
    },

    /** Incidents from Temporal visibility, newest first. */
    async list(status: 'open' | 'resolved' | 'all', limit = 100): Promise<IncidentSummary[]> {
      return deps.temporal.withDeadline(5_000, async () => {
        const out: IncidentSummary[] = [];
        for await (const wf of client.workflow.list({ query: VISIBILITY[status], pageSize: limit })) {
          const sa = wf.typedSearchAttributes;
          out.push({
            incidentId: wf.workflowId,
            runId: wf.runId,
            executionStatus: wf.status.name,
            status: sa.get(IncidentStatusKey) ?? null,
            severity: sa.get(IncidentSeverityKey) ?? null,
            service: sa.get(IncidentServiceKey) ?? null,
            dedupKey: sa.get(IncidentKey) ?? null,
            escalationLevel: sa.get(EscalationLevelKey) ?? null,
            startedAt: wf.startTime.toISOString(),
            closedAt: wf.closeTime?.toISOString() ?? null,
          });
          if (out.length >= limit) break;
        }
        return out;
      });
    },
  };
}

export type IncidentActions = ReturnType<typeof createIncidentActions>;

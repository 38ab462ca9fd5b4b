/**
 * Approval gates (pure): who may decide, and what one `approve` signal does to a pending approval. The
 * workflow records refusals in the timeline, so a refused click is an audit fact in history.
 */

/** A person allowed to decide, resolved from the step's approvers (roles at the instant it started). */
export interface Approver {
  personId: string;
  name: string;
  slackUserId?: string;
  /** How the person qualified: `role:primary`, `person`. */
  via: string;
}

export interface ApprovalDecision {
  personId: string;
  decision: 'approve' | 'reject';
  at: string;
  comment?: string;
  via?: string;
}

export interface ApprovalRefusal {
  user: string;
  at: string;
  reason: RefusalReason;
}

export type RefusalReason = 'not_an_approver' | 'not_pending' | 'incident_closed' | 'unknown_step';

/** State of one approval step. */
export interface ApprovalState {
  stepId: string;
  prompt: string;
  status: 'pending' | 'approved' | 'rejected' | 'timed_out' | 'cancelled';
  allowed: Approver[];
  minApprovals: number;
  requestedAt: string;
  /** Absolute deadline (epoch ms). */
  deadlineAt: number;
  decisions: ApprovalDecision[];
  /** The most recent refusals (bounded); older ones are only counted in `refusalsDropped`. */
  refusals: ApprovalRefusal[];
  refusalsDropped?: number;
  decidedAt?: string;
}

/** Result of applying one `approve` signal. */
export type ApprovalOutcome =
  | { kind: 'refused'; reason: RefusalReason; message: string }
  | { kind: 'repeat'; approver: Approver; message: string }
  | { kind: 'recorded'; approver: Approver; status: ApprovalState['status']; message: string };

/** Finds the approver a signal's `user` names: a person id or a Slack user id. */
export function findApprover(allowed: readonly Approver[], user: string): Approver | undefined {
  return allowed.find((a) => a.personId === user || (a.slackUserId !== undefined && a.slackUserId === user));
}

const REFUSAL_TEXT: Record<RefusalReason, string> = {
  not_an_approver: 'is not an allowed approver for this step',
  not_pending: 'cannot decide: the step is no longer awaiting approval',
  incident_closed: 'cannot decide: the incident is closed',
  unknown_step: 'cannot decide: no such approval step in this incident',
};

/** Message for a refusal: "bob is not an allowed approver for this step (allowed: alice, frank)". */
export function refusalMessage(user: string, reason: RefusalReason, approval?: ApprovalState): string {
  const allowed =
    reason === 'not_an_approver' && approval
      ? ` (allowed: ${approval.allowed.map((a) => a.name).join(', ')})`
      : '';
  return `${user} ${REFUSAL_TEXT[reason]}${allowed}`;
}

/**
 * Applies a decision to a pending approval (mutates `approval`). One rejection from an allowed approver
 * decides; approvals count distinct people until `minApprovals`. A person deciding twice changes nothing.
 */
export function applyDecision(
  approval: ApprovalState,
  signal: { user: string; name?: string; decision: 'approve' | 'reject'; comment?: string; via?: string },
  at: string,
): ApprovalOutcome {
  const who = signal.name ?? signal.user;
  const approver = findApprover(approval.allowed, signal.user);
  // A second click of someone who already decided is a repeat, whatever the step's status now.
  if (approver && approval.decisions.some((d) => d.personId === approver.personId)) {
    return { kind: 'repeat', approver, message: `${approver.name} already decided on ${approval.stepId}` };
  }
  if (approval.status !== 'pending') {
    approval.refusals.push({ user: signal.user, at, reason: 'not_pending' });
    return { kind: 'refused', reason: 'not_pending', message: refusalMessage(who, 'not_pending') };
  }
  if (!approver) {
    approval.refusals.push({ user: signal.user, at, reason: 'not_an_approver' });
    return {
      kind: 'refused',
      reason: 'not_an_approver',
      message: refusalMessage(who, 'not_an_approver', approval),
    };
  }
  approval.decisions.push({
    personId: approver.personId,
    decision: signal.decision,
    at,
    ...(signal.comment ? { comment: signal.comment } : {}),
    ...(signal.via ? { via: signal.via } : {}),
  });
  if (signal.decision === 'reject') {
    approval.status = 'rejected';
    approval.decidedAt = at;
  } else if (approval.decisions.filter((d) => d.decision === 'approve').length >= approval.minApprovals) {
    approval.status = 'approved';
    approval.decidedAt = at;
  }
  const verb = signal.decision === 'approve' ? 'approved' : 'rejected';
  return {
    kind: 'recorded',
    approver,
    status: approval.status,
    message: `${approver.name} ${verb} ${approval.stepId}`,
  };
}

import { applyDecision, type ApprovalState } from '../../../src/domain/approval';

function pending(minApprovals = 1): ApprovalState {
  return {
    stepId: 'approve_rollback',
    prompt: 'Roll back?',
    status: 'pending',
    allowed: [
      { personId: 'dave', name: 'Dave Müller', slackUserId: 'U01DAVEM', via: 'role:primary' },
      { personId: 'frank', name: 'Frank Weber', slackUserId: 'U01FRANK', via: 'role:team_lead' },
    ],
    minApprovals,
    requestedAt: '2026-11-25T09:22:00.000Z',
    deadlineAt: Date.parse('2026-11-25T09:27:00.000Z'),
    decisions: [],
    refusals: [],
  };
}
const AT = '2026-11-25T09:23:00.000Z';

describe('applyDecision', () => {
  it('refuses someone who is not an allowed approver, naming who may decide', () => {
    const a = pending();
    const out = applyDecision(a, { user: 'alice', name: 'Alice Kim', decision: 'approve' }, AT);
    expect(out).toEqual({
      kind: 'refused',
      reason: 'not_an_approver',
      message: 'Alice Kim is not an allowed approver for this step (allowed: Dave Müller, Frank Weber)',
    });
    expect(a.status).toBe('pending');
    expect(a.refusals).toEqual([{ user: 'alice', at: AT, reason: 'not_an_approver' }]);
  });

  it.each([
    ['person id', 'dave'],
    ['Slack user id', 'U01DAVEM'],
  ])('accepts an allowed approver by %s', (_kind, user) => {
    const a = pending();
    expect(applyDecision(a, { user, decision: 'approve' }, AT)).toMatchObject({
      kind: 'recorded',
      status: 'approved',
    });
    expect(a.decisions).toEqual([{ personId: 'dave', decision: 'approve', at: AT }]);
  });

  it('treats a double click of the same person as a repeat, even after the step was decided', () => {
    const a = pending();
    applyDecision(a, { user: 'U01DAVEM', decision: 'approve' }, AT);
    expect(applyDecision(a, { user: 'U01DAVEM', decision: 'approve' }, AT)).toMatchObject({ kind: 'repeat' });
    expect(a.decisions).toHaveLength(1);
  });

  it('needs distinct people for min_approvals and decides on one rejection', () => {
    const two = pending(2);
    expect(applyDecision(two, { user: 'dave', decision: 'approve' }, AT)).toMatchObject({
      status: 'pending',
    });
    expect(applyDecision(two, { user: 'frank', decision: 'approve' }, AT)).toMatchObject({
      status: 'approved',
    });
    const rejected = pending(2);
    expect(applyDecision(rejected, { user: 'frank', decision: 'reject' }, AT)).toMatchObject({
      status: 'rejected',
    });
  });

  it('refuses a decision on a step no longer pending', () => {
    const a = pending();
    a.status = 'timed_out';
    expect(applyDecision(a, { user: 'dave', decision: 'approve' }, AT)).toMatchObject({
      kind: 'refused',
      reason: 'not_pending',
    });
  });
});

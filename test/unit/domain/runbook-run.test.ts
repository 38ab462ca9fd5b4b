import { Runbook } from '../../../src/domain/runbook';
import { nextMove, statusDuring } from '../../../src/domain/runbook-run';

const runbook = Runbook.parse({
  name: 'rb',
  title: 'Test runbook',
  risk: 'risky',
  match: { incident_types: ['x'] },
  steps: [
    { id: 'gate', type: 'approval', prompt: 'ok?', approvers: [{ role: 'primary' }], timeout: '5m' },
    {
      id: 'act',
      type: 'action',
      action: 'slack.notify',
      with: { message: 'hi' },
      on_failure: { goto: 'fallback' },
    },
    { id: 'cont', type: 'action', action: 'slack.notify', with: { message: 'hi' }, on_failure: 'continue' },
    { id: 'abort', type: 'action', action: 'slack.notify', with: { message: 'hi' }, on_failure: 'abort' },
    { id: 'fallback', type: 'check', check: { promql: 'up' }, within: '5m' },
    {
      id: 'gate2',
      type: 'approval',
      prompt: 'go?',
      approvers: [{ role: 'primary' }],
      timeout: '5m',
      on_timeout: 'proceed',
      on_reject: 'escalate',
    },
    {
      id: 'gate3',
      type: 'approval',
      prompt: 'go?',
      approvers: [{ role: 'primary' }],
      timeout: '5m',
      on_timeout: 'abort',
      on_reject: { goto: 'act' },
    },
    { id: 'pause', type: 'wait', duration: '1m' },
  ],
});

describe('nextMove', () => {
  it.each([
    ['gate', 0, 'succeeded', { kind: 'step', index: 1 }],
    [
      'gate times out (escalate by default)',
      0,
      'timed_out',
      { kind: 'end', status: 'failed', escalate: true },
    ],
    ['gate rejected (abort by default)', 0, 'rejected', { kind: 'end', status: 'aborted', escalate: false }],
    ['goto on failure', 1, 'failed', { kind: 'step', index: 4 }],
    ['continue on failure', 2, 'failed', { kind: 'step', index: 3 }],
    ['abort on failure', 3, 'failed', { kind: 'end', status: 'aborted', escalate: false }],
    ['escalate on failure (default)', 4, 'failed', { kind: 'end', status: 'failed', escalate: true }],
    ['proceed on timeout', 5, 'timed_out', { kind: 'step', index: 6 }],
    ['escalate on reject', 5, 'rejected', { kind: 'end', status: 'failed', escalate: true }],
    ['abort on timeout', 6, 'timed_out', { kind: 'end', status: 'aborted', escalate: false }],
    ['goto on reject', 6, 'rejected', { kind: 'step', index: 1 }],
    ['last step done', 7, 'succeeded', { kind: 'end', status: 'succeeded', escalate: false }],
  ] as const)('%s', (_name, index, outcome, expected) => {
    expect(nextMove(runbook, index, outcome)).toMatchObject(expected);
  });

  it('maps step kinds to incident statuses', () => {
    expect(runbook.steps.map(statusDuring)).toEqual([
      'awaiting_approval',
      'mitigating',
      'mitigating',
      'mitigating',
      'monitoring',
      'awaiting_approval',
      'awaiting_approval',
      'mitigating',
    ]);
  });
});

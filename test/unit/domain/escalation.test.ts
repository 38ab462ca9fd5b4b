import {
  type EscalationFacts,
  initialEscalation,
  markPaged,
  planEscalation,
  planSummary,
  type PolicySnapshot,
  requestedLevels,
} from '../../../src/domain/escalation';

const MIN = 60_000;
const T0 = Date.parse('2026-11-25T09:17:00Z');

/** The seed ladder (DESIGN §4). */
const seed: PolicySnapshot = {
  name: 'default',
  levels: [
    {
      name: 'L1',
      delay: '0m',
      since: 'previous_level',
      targets: [{ slack_channel: '#data-incidents' }],
      channels: ['slack'],
    },
    {
      name: 'L2',
      delay: '10m',
      since: 'previous_level',
      targets: [{ role: 'primary' }],
      channels: ['sms', 'slack'],
    },
    {
      name: 'L3',
      delay: '30m',
      since: 'last_progress',
      targets: [{ role: 'secondary' }],
      channels: ['phone', 'sms'],
    },
    {
      name: 'L4',
      delay: '60m',
      since: 'opened',
      targets: [{ role: 'manager' }],
      channels: ['phone', 'slack'],
    },
  ],
  repeat: 0,
  no_progress_timeout: '30m',
  fallback_channels: ['slack', 'sms', 'phone'],
  severity_rules: [{ severity: 'P1', jump_to_level: 4 }],
};

function facts(extra: Partial<EscalationFacts> = {}): EscalationFacts {
  return { openedAt: T0, lastProgressAt: T0, severity: 'P2', acknowledged: false, ...extra };
}

/** Runs the ladder with nobody answering; returns when each level fired (minutes after open). */
function runUnanswered(policy: PolicySnapshot, f: EscalationFacts): Array<[number[], number]> {
  const state = initialEscalation(policy);
  const fired: Array<[number[], number]> = [];
  for (let i = 0; i < 20; i++) {
    const plan = planEscalation(policy, state, f);
    if (plan.kind === 'done') break;
    fired.push([plan.levels, (plan.at - T0) / MIN]);
    markPaged(policy, state, plan.levels, plan.at);
  }
  return fired;
}

describe('planEscalation', () => {
  it('follows the seed ladder when nobody acknowledges: L1 at 0, L2 at 10m, L3 at 40m, L4 at 60m', () => {
    expect(runUnanswered(seed, facts())).toEqual([
      [[1], 0],
      [[2], 10],
      [[3], 40],
      [[4], 60],
    ]);
  });

  it('pages every level up to the rule level at once for a P1', () => {
    expect(runUnanswered(seed, facts({ severity: 'P1' }))).toEqual([[[1, 2, 3, 4], 0]]);
  });

  it('jumps when the incident becomes P1 after L2', () => {
    const state = initialEscalation(seed);
    markPaged(seed, state, [1], T0);
    markPaged(seed, state, [2], T0 + 10 * MIN);
    const plan = planEscalation(seed, state, facts({ severity: 'P1' }));
    expect(plan).toEqual({ kind: 'page', levels: [3, 4], at: T0, reason: 'severity_rule' });
  });

  it('waits for the no-progress timeout while acknowledged, counted from the last progress', () => {
    const state = initialEscalation(seed);
    markPaged(seed, state, [1], T0);
    markPaged(seed, state, [2], T0 + 10 * MIN);
    const acked = facts({ acknowledged: true, lastProgressAt: T0 + 12 * MIN });
    expect(planEscalation(seed, state, acked)).toEqual({
      kind: 'page',
      levels: [3],
      at: T0 + 42 * MIN,
      reason: 'no_progress',
    });
    const progressed = facts({ acknowledged: true, lastProgressAt: T0 + 35 * MIN });
    expect(planEscalation(seed, state, progressed)).toMatchObject({ at: T0 + 65 * MIN });
  });

  it('counts "last_progress" levels from the latest progress when not acknowledged', () => {
    const state = initialEscalation(seed);
    markPaged(seed, state, [1], T0);
    markPaged(seed, state, [2], T0 + 10 * MIN);
    expect(planEscalation(seed, state, facts({ lastProgressAt: T0 + 25 * MIN }))).toMatchObject({
      levels: [3],
      at: T0 + 55 * MIN,
    });
  });

  it('repeats from level 1 after the last level when the policy says so', () => {
    const policy = { ...seed, repeat: 1 };
    const fired = runUnanswered(policy, facts());
    expect(fired.map(([levels, at]) => `${levels.join('+')}@${at}`)).toEqual([
      '1@0',
      '2@10',
      '3@40',
      '4@60',
      '1@90',
      '2@100',
      '3@130',
      '4@150',
    ]);
  });

  it('does not page level 1 again for an acknowledgement before anything was paged', () => {
    expect(planEscalation(seed, initialEscalation(seed), facts({ acknowledged: true }))).toEqual({
      kind: 'done',
    });
  });
});

describe('requestedLevels', () => {
  it.each([
    [0, undefined, [1]],
    [2, undefined, [3]],
    [1, 4, [2, 3, 4]],
    [4, undefined, []],
    [3, 2, []],
    [0, 9, [1, 2, 3, 4]],
  ])('from level %i asking for %s pages %j', (current, requested, expected) => {
    const state = initialEscalation(seed);
    for (let l = 1; l <= current; l++) markPaged(seed, state, [l], T0);
    expect(requestedLevels(seed, state, requested)).toEqual(expected);
  });
});

describe('planSummary', () => {
  it('describes the next timer for the Web UI', () => {
    const state = initialEscalation(seed);
    markPaged(seed, state, [1], T0);
    expect(planSummary(seed, planEscalation(seed, state, facts()), T0)).toBe(
      'L2 in 10m: SMS + Slack to primary',
    );
  });
});

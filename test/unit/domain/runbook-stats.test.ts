import {
  flagWeakRunbooks,
  orderSuggestions,
  type RunbookRun,
  successRates,
} from '../../../src/domain/runbook-stats';

const T0 = Date.parse('2026-11-01T00:00:00Z');
function runs(runbook: string, incidentType: string, outcomes: string, startMin = 0): RunbookRun[] {
  // outcomes oldest → newest, one a minute from `startMin`: s = success, f = failure, a = aborted
  return [...outcomes].map((c, i) => ({
    runbook,
    incidentType,
    outcome: c === 's' ? 'success' : c === 'f' ? 'failure' : 'aborted',
    finishedAtMs: T0 + (startMin + i) * 60_000,
  }));
}

describe('successRates', () => {
  it('counts per runbook and per incident type, leaving aborted runs out of the rate', () => {
    const stats = successRates([
      ...runs('retry', 'task_failure', 'ssfa'),
      ...runs('retry', 'sla_miss', 'f', 10),
    ]);
    expect(stats.byRunbook).toEqual([
      {
        runbook: 'retry',
        runs: 5,
        successes: 2,
        failures: 2,
        aborted: 1,
        rate: 0.5,
        smoothedRate: 0.5,
        recent: ['failure', 'failure', 'success', 'success'],
      },
    ]);
    expect(stats.byRunbookAndType.map((r) => [r.incidentType, r.successes, r.failures])).toEqual([
      ['sla_miss', 0, 1],
      ['task_failure', 2, 1],
    ]);
  });
});

describe('orderSuggestions', () => {
  it('keeps the candidates in their order when nothing is recorded', () => {
    const ordered = orderSuggestions(['rollback', 'raise_pool'], successRates([]), { incidentType: 'x' });
    expect(ordered.map((s) => [s.runbook, s.basis])).toEqual([
      ['rollback', 'no runs recorded yet'],
      ['raise_pool', 'no runs recorded yet'],
    ]);
  });

  it('puts the runbook with the better record for this incident type first', () => {
    const stats = successRates([
      ...runs('rollback', 'task_failure_rate', 'ffs'),
      ...runs('raise_pool', 'task_failure_rate', 'sssf'),
    ]);
    const ordered = orderSuggestions(['rollback', 'raise_pool'], stats, {
      incidentType: 'task_failure_rate',
    });
    expect(ordered.map((s) => [s.runbook, s.scope, s.basis])).toEqual([
      ['raise_pool', 'incident_type', 'succeeded 3 of 4 task_failure_rate runs (75%)'],
      ['rollback', 'incident_type', 'succeeded 1 of 3 task_failure_rate runs (33%)'],
    ]);
  });

  it('falls back to the runbook overall rate for an incident type it never ran for', () => {
    const stats = successRates(runs('rollback', 'other', 'ff'));
    const [first, second] = orderSuggestions(['rollback', 'raise_pool'], stats, { incidentType: 'new' });
    expect([first?.runbook, second?.runbook, second?.scope]).toEqual(['raise_pool', 'rollback', 'runbook']);
  });
});

describe('flagWeakRunbooks', () => {
  it('flags a runbook that failed 4 of its last 5 runs', () => {
    const stats = successRates([...runs('raise_pool', 't', 'sssffsff'), ...runs('retry', 't', 'sssss')]);
    expect(flagWeakRunbooks(stats)).toEqual([
      { runbook: 'raise_pool', runs: 5, failures: 4, rate: 0.2, message: 'failed 4 of its last 5 runs' },
    ]);
  });

  it('judges only the last N decided runs', () => {
    const stats = successRates(runs('rollback', 't', 'ffffffsssss'));
    expect(flagWeakRunbooks(stats, { lastN: 5 })).toEqual([]);
  });

  it('does not judge a runbook with fewer runs than minRuns', () => {
    const stats = successRates(runs('rollback', 't', 'ff'));
    expect(flagWeakRunbooks(stats, { minRuns: 3 })).toEqual([]);
  });

  it('does not count aborted runs against a runbook', () => {
    const stats = successRates(runs('rollback', 't', 'saaaaas'));
    expect(flagWeakRunbooks(stats, { minRuns: 2 })).toEqual([]);
  });
});

import { createSlackHandlers, planClick } from '../../../src/api/slack/handlers';
import { formatIncidentView, outcomeText } from '../../../src/api/slack/replies';
import { RequestMemory } from '../../../src/api/slack/request-memory';
import { blockActions, captureLogs, FakeIncidentPort, makeView, value } from '../../helpers/slack';

const I = 'incident:svc:key';

describe('planClick', () => {
  it.each([
    ['incident_ack', value(I), { kind: 'act', incident: I, action: { kind: 'acknowledge' } }],
    [
      'incident_run_runbook:increase_pool',
      value(I, { r: 'increase_pool' }),
      { kind: 'act', incident: I, action: { kind: 'run_runbook', runbook: 'increase_pool' } },
    ],
    [
      'incident_run_runbook:rollback_deployment',
      value(I),
      { kind: 'act', incident: I, action: { kind: 'run_runbook', runbook: 'rollback_deployment' } },
    ],
    [
      'incident_approve',
      value(I, { s: 'gate' }),
      { kind: 'act', incident: I, action: { kind: 'approve', stepId: 'gate' } },
    ],
    [
      'incident_reject',
      value(I, { s: 'gate' }),
      { kind: 'act', incident: I, action: { kind: 'reject', stepId: 'gate' } },
    ],
    ['incident_investigate', value(I), { kind: 'act', incident: I, action: { kind: 'investigate' } }],
    [
      'incident_resolve',
      value(I),
      { kind: 'act', incident: I, action: { kind: 'resolve', note: 'resolved from Slack' } },
    ],
    ['incident_ack', 'not json', { kind: 'invalid', message: 'This button does not name an incident.' }],
    ['incident_ack', undefined, { kind: 'invalid', message: 'This button does not name an incident.' }],
    [
      'incident_approve',
      value(I),
      { kind: 'invalid', message: 'This button does not name an approval step.' },
    ],
    ['incident_run_runbook', value(I), { kind: 'invalid', message: 'This button does not name a runbook.' }],
    ['incident_escalate', value(I), { kind: 'ignore' }],
    ['open_grafana', value(I), { kind: 'ignore' }],
  ])('maps %s with value %j', (actionId, v, plan) => {
    expect(planClick({ action_id: actionId, value: v })).toEqual(plan);
  });
});

describe('outcomeText', () => {
  it.each([
    [
      { ok: true, message: 'Alice Kim approved rollback_approval' },
      '✅ Alice Kim approved rollback_approval',
    ],
    [
      { ok: false, message: 'U0BOB is not an allowed approver for this step (allowed: Alice Kim)' },
      '⛔ <@U0BOB> is not an allowed approver for this step (allowed: Alice Kim)',
    ],
    [
      { ok: true, pending: true, message: 'request recorded; the incident will act on it shortly' },
      '⏳ Request recorded; the incident will act on it shortly',
    ],
    [{ ok: false, message: 'incident is already resolved' }, '⛔ Incident is already resolved'],
    [{ ok: true, message: 'runbook <x> & co started' }, '✅ Runbook &lt;x&gt; &amp; co started'],
  ])('words %j for the clicker', (result, text) => {
    expect(outcomeText(result, 'U0BOB')).toBe(text);
  });
});

describe('RequestMemory', () => {
  it('claims an id once', () => {
    const memory = new RequestMemory(10);
    expect([memory.claim('a'), memory.claim('a'), memory.claim('b')]).toEqual([true, false, true]);
  });

  it('forgets the oldest ids beyond its capacity', () => {
    const memory = new RequestMemory(2);
    ['a', 'b', 'c'].forEach((id) => memory.claim(id));
    expect(memory.size).toBe(2);
    expect([memory.claim('a'), memory.claim('c')]).toEqual([true, false]);
  });

  it('lets a released id be claimed again', () => {
    const memory = new RequestMemory();
    memory.claim('a');
    memory.release('a');
    expect(memory.claim('a')).toBe(true);
  });
});

describe('createSlackHandlers', () => {
  it('acts but only logs the outcome when it has no Slack client to reply with', async () => {
    const port = new FakeIncidentPort();
    port.addIncident(I, 'INC-20261125-001', false);
    const logs = captureLogs();
    const handlers = createSlackHandlers({ actions: port, log: logs.log });
    const results = await handlers.handleInteraction(
      blockActions({ user: 'U0ALICE', actionId: 'incident_ack', value: value(I), actionTs: '1.2' }),
    );
    expect(results).toEqual([
      {
        actionId: 'incident_ack',
        outcome: 'acted',
        requestId: 'slack:U0ALICE:1.2',
        reply: { response_type: 'ephemeral', text: '✅ Acknowledged by Alice Kim; paging stopped' },
        delivered: false,
      },
    ]);
    expect(logs.lines.some((l) => l.includes('slack reply not sent: no Slack client configured'))).toBe(true);
  });

  it('ignores a block_actions payload it cannot read', async () => {
    const port = new FakeIncidentPort();
    const handlers = createSlackHandlers({ actions: port, log: captureLogs().log });
    expect(await handlers.handleInteraction({ type: 'block_actions', actions: [] })).toEqual([]);
    expect(port.calls).toHaveLength(0);
  });
});

describe('formatIncidentView', () => {
  it('shows escalation, investigator, the running step and the resolution', () => {
    const view = makeView({
      status: 'resolved',
      acknowledgedBy: 'Alice Kim',
      acknowledgedAt: '2026-11-25T09:20:00.000Z',
      investigator: 'Frank Lee',
      automationPaused: true,
      escalation: {
        policy: 'default',
        level: 2,
        highestLevel: 2,
        pagedAt: { 1: '2026-11-25T09:17:00.000Z', 2: '2026-11-25T09:27:00.000Z' },
        nextAt: '2026-11-25T09:40:00.000Z',
        next: 'L3: phone the manager',
        pages: [],
      },
      runbook: {
        runId: 'increase_pool#1',
        runbook: 'increase_pool',
        title: 'Increase the DB pool',
        risk: 'safe',
        status: 'running',
        startedAt: '2026-11-25T09:21:00.000Z',
        startedBy: 'Alice Kim',
        stepIndex: 1,
        executions: 2,
        variables: {},
        steps: {
          resize: { id: 'resize', type: 'action', status: 'succeeded', attempts: 1, data: {} },
          verify: { id: 'verify', type: 'check', status: 'running', attempts: 0, data: {} },
        },
      },
      resolvedAt: '2026-11-25T09:35:00.000Z',
      resolution: { reason: 'manual', by: 'Alice Kim', note: 'pool <200>' },
      links: { grafana: 'https://grafana/d/x' },
    });
    expect(formatIncidentView(view).split('\n')).toEqual([
      '*INC-20261125-003*: customer_etl failure (P1)',
      '*Status:* resolved · *Service:* dag-customer-etl · *Escalation level:* 2, next ' +
        '<!date^1795599600^{date_short_pretty} {time}|2026-11-25T09:40:00.000Z>: L3: phone the manager',
      '*Acknowledged by:* Alice Kim (<!date^1795598400^{date_short_pretty} {time}|2026-11-25T09:20:00.000Z>)',
      '*Investigating:* Frank Lee (automation paused)',
      '*Pending approvals:* none',
      '*Runbook:* Increase the DB pool (`increase_pool#1`) running, step `verify` running',
      '*Resolved:* <!date^1795599300^{date_short_pretty} {time}|2026-11-25T09:35:00.000Z> by Alice Kim ' +
        '(manual: pool &lt;200&gt;)',
      '*Links:* <https://grafana/d/x|Grafana> · `incident:dag-customer-etl:customer_etl`',
    ]);
  });
});

import { createSlackHandlers, planClick } from '../../../src/api/slack/handlers';
import { outcomeText } from '../../../src/api/slack/replies';
import { RequestMemory } from '../../../src/api/slack/request-memory';
import { blockActions, captureLogs, FakeIncidentPort, value } from '../../helpers/slack';

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

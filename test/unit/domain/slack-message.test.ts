import {
  blockKitProblems,
  decodeActionValue,
  encodeActionValue,
  type IncidentMessageModel,
  renderIncidentMessage,
  SlackAction,
} from '../../../src/domain/slack-message';

/** The seed's ChatOps example ("Slack 기반 ChatOps"). */
const seedExample: IncidentMessageModel = {
  incidentId: 'incident:customer_etl:failure_rate/customer_etl',
  number: 'INC-001',
  title: 'customer_etl failure',
  severity: 'P1',
  status: 'triggered',
  service: 'customer_etl',
  alert: 'airflow_task_fail_rate > 50% for 5m',
  affected: 'dag-customer-etl',
  recentChange: { text: 'Deployment v2.3.1 (10 min ago)' },
  diagnosis: { cause: 'Connection pool exhaustion', confidence: 0.78 },
  suggestions: [
    { runbook: 'connection_pool_exhaustion', title: 'Increase DB connection pool', risk: 'safe' },
    { runbook: 'dag_deployment_regression', title: 'Rollback v2.3.1', risk: 'risky' },
  ],
  links: {
    temporalUi:
      'http://localhost:8233/namespaces/default/workflows/incident%3Acustomer_etl%3Afailure_rate%2Fcustomer_etl',
    grafana: 'http://localhost:3000/d/incidentflow-l3-dag/l3-dag?var-dag_id=customer_etl',
  },
};

describe('renderIncidentMessage', () => {
  it('renders the seed ChatOps example', () => {
    expect(renderIncidentMessage(seedExample)).toMatchSnapshot();
  });

  it('shows the seed example facts, diagnosis and the three option buttons', () => {
    const message = renderIncidentMessage(seedExample);
    const text = JSON.stringify(message.blocks);
    for (const fact of [
      'Incident INC-001: customer_etl failure (P1)',
      'airflow_task_fail_rate &gt; 50% for 5m',
      'dag-customer-etl',
      'Deployment v2.3.1 (10 min ago)',
      'Likely cause: Connection pool exhaustion',
      'Confidence: 78%',
    ]) {
      expect(text).toContain(fact);
    }
    const buttons = message.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.map((b) => b.text.text)).toEqual([
      'Acknowledge',
      'Option 1 - Increase DB connection pool',
      'Option 2 - Rollback v2.3.1 (approval)',
      'Manual Investigate',
      'Resolve',
    ]);
    // The risky option and Resolve ask for confirmation.
    expect(buttons.filter((b) => b.confirm).map((b) => b.action_id)).toEqual([
      `${SlackAction.runRunbook}:dag_deployment_regression`,
      SlackAction.resolve,
    ]);
    expect(message.text).toBe('Incident INC-001: customer_etl failure (P1) · triggered');
  });

  it('fits the Block Kit limits', () => {
    expect(blockKitProblems(renderIncidentMessage(seedExample))).toEqual([]);
  });

  it('stays within the limits with long texts and many suggestions', () => {
    const long: IncidentMessageModel = {
      ...seedExample,
      incidentId: `incident:${'s'.repeat(180)}:${'k'.repeat(190)}`,
      title: 'T'.repeat(500),
      alert: 'A'.repeat(5000),
      suggestions: Array.from({ length: 12 }, (_, i) => ({
        runbook: `runbook_${i}`,
        title: `A very long suggested fix title number ${i} that goes on and on and on`,
        risk: i % 2 === 0 ? ('safe' as const) : ('risky' as const),
      })),
      pendingApproval: {
        stepId: 'approve',
        prompt: 'P'.repeat(400),
        approvers: ['Alice Kim', 'Frank Weber'],
        deadline: '09:27 UTC',
      },
    };
    expect(blockKitProblems(renderIncidentMessage(long))).toEqual([]);
  });

  it('detects what breaks the limits', () => {
    const message = renderIncidentMessage(seedExample);
    const actions = message.blocks.find((b) => b.type === 'actions');
    if (actions?.type !== 'actions') throw new Error('no actions block');
    actions.elements[0]!.text.text = 'x'.repeat(76);
    actions.elements[1]!.value = 'v'.repeat(2001);
    expect(
      blockKitProblems({
        text: '',
        blocks: [...message.blocks, ...Array.from({ length: 50 }, () => ({ type: 'divider' as const }))],
      }),
    ).toEqual(
      expect.arrayContaining([
        'missing fallback text',
        expect.stringMatching(/blocks \(max 50\)$/),
        expect.stringMatching(/button text over 75$/),
        expect.stringMatching(/value over 2000$/),
      ]),
    );
  });

  it('replaces the buttons with the resolution once resolved', () => {
    const message = renderIncidentMessage({
      ...seedExample,
      status: 'resolved',
      resolved: { at: '09:35 UTC', by: 'Alice Kim', reason: 'manual' },
    });
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(message.text).toMatch(/^Resolved INC-001/);
  });

  it('shows Approve and Reject while a step awaits approval', () => {
    const message = renderIncidentMessage({
      ...seedExample,
      status: 'awaiting_approval',
      pendingApproval: {
        stepId: 'approve_rollback',
        prompt: 'Roll back?',
        approvers: ['Dave Müller'],
        deadline: '09:27 UTC',
      },
    });
    const buttons = message.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.slice(0, 2).map((b) => [b.action_id, decodeActionValue(b.value)])).toEqual([
      [SlackAction.approve, { i: seedExample.incidentId, s: 'approve_rollback' }],
      [SlackAction.reject, { i: seedExample.incidentId, s: 'approve_rollback' }],
    ]);
  });

  it('round-trips button values and rejects foreign ones', () => {
    expect(decodeActionValue(encodeActionValue({ i: 'x', r: 'rb' }))).toEqual({ i: 'x', r: 'rb' });
    expect(decodeActionValue('not json')).toBeUndefined();
    expect(decodeActionValue('{"r":"rb"}')).toBeUndefined();
  });
});

import { diagnose } from '../../../src/domain/diagnosis';
import { type PostmortemInput, renderPostmortem } from '../../../src/domain/postmortem';
import {
  at,
  deployment,
  QUEUEPOOL_LOG,
  scenario2Events,
  scenario2Evidence,
  scenario2Incident,
  scenario2Prevention,
  scenario2Steps,
} from '../../fixtures/learn/scenario2';

function scenario2(overrides: Partial<PostmortemInput> = {}): PostmortemInput {
  return {
    incident: scenario2Incident,
    what: 'customer_etl DAG failed, 2 hour SLA breach',
    events: scenario2Events,
    deployments: [deployment],
    hypotheses: diagnose(scenario2Evidence({ logText: QUEUEPOOL_LOG })),
    why: [
      'v2.3.1 changed database pooling config: max_connections 50 → 100, incompatible with the legacy DB driver',
    ],
    steps: scenario2Steps,
    prevention: scenario2Prevention,
    ...overrides,
  };
}

function section(markdown: string, title: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`**${title}**`));
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start + 1, end);
}

describe('renderPostmortem', () => {
  it('renders the seed scenario 2 postmortem', () => {
    expect(renderPostmortem(scenario2())).toBe(
      [
        '## Incident Summary — INC-20260425-001',
        '',
        '*customer_etl · P1 · task_failure_rate · 2026-04-25 · times in UTC*',
        '',
        '**What**: customer_etl DAG failed, 2 hour SLA breach',
        '',
        '**Timeline**:',
        '- 09:15 — Deployment v2.3.1 of customer_etl released (changed database pooling config)',
        '- 09:17 — Task failure rate spike (2% → 78%)',
        '- 09:22 — AI RCA identified connection pool exhaustion',
        '- 09:27 — Auto-fix: increased pool size',
        '- 09:35 — DAG recovered',
        '',
        '**Why**: likely connection pool exhaustion (confidence 87%, not yet confirmed)',
        '  - task log: 2 lines match sqlalchemy_queuepool_limit, e.g. "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"',
        '  - basis: no history yet: rule-based estimate 87%',
        '  - v2.3.1 changed database pooling config: max_connections 50 → 100, incompatible with the legacy DB driver',
        '  - also considered: deployment regression (78%)',
        '',
        '**How Fixed**:',
        '- Runbook `connection_pool_exhaustion`:',
        '  - Increase pool size to 200 (temporary) — succeeded (automation)',
        '  - Monitor failure rate < 5% for 10m — succeeded (automation)',
        '',
        '**Prevention**:',
        '- [ ] Add connection pool validation in CI/CD',
        '- [ ] Load-test new deployments before prod',
        '- [ ] Gradual rollout (10% → 50% → 100%)',
        '- [ ] Alert on connection pool usage above 80% before it is exhausted',
        '',
        '**Metrics**:',
        '- Time to acknowledge: 1m30s (by alice)',
        '- Time to resolve: 18m',
        '- Highest escalation level: L2',
        '',
      ].join('\n'),
    );
  });

  it('lists the timeline sorted by time with the seed times', () => {
    const times = section(renderPostmortem(scenario2()), 'Timeline').map((l) => l.slice(2, 7));
    expect(times).toEqual(['09:15', '09:17', '09:22', '09:27', '09:35']);
  });

  it('writes times and the date in the configured time zone', () => {
    const markdown = renderPostmortem(scenario2({ timeZone: 'Asia/Seoul' }));
    expect(markdown).toContain('· 2026-04-25 · times in Asia/Seoul*');
    expect(section(markdown, 'Timeline')[0]).toBe(
      '- 18:15 — Deployment v2.3.1 of customer_etl released (changed database pooling config)',
    );
  });

  it('prefixes the date to entries on a later day than the incident opened', () => {
    const events = [
      ...scenario2Events,
      { seq: 9, at: '2026-04-26T00:05:00.000Z', kind: 'reopened', text: 'Reopened' },
    ];
    expect(section(renderPostmortem(scenario2({ events })), 'Timeline').at(-1)).toBe(
      '- 04-26 00:05 — Reopened',
    );
  });

  it('names who approved a step in How Fixed', () => {
    const steps = [
      {
        incidentKey: scenario2Incident.incidentKey,
        stepId: 'rollback',
        runbook: 'dag_deployment_regression',
        name: 'kubectl rollout undo deployment/airflow-workers',
        attempts: 2,
        result: 'succeeded' as const,
        actor: 'approved by bob',
        startedAt: at('09:25'),
      },
    ];
    expect(section(renderPostmortem(scenario2({ steps })), 'How Fixed')).toEqual([
      '- Runbook `dag_deployment_regression`:',
      '  - kubectl rollout undo deployment/airflow-workers — succeeded after 2 attempts (approved by bob)',
    ]);
  });

  it('says who resolved an incident by hand', () => {
    const incident = {
      ...scenario2Incident,
      outcome: 'resolved_manually' as const,
      resolvedBy: 'carol',
      fix: 'restarted pgbouncer',
    };
    expect(section(renderPostmortem(scenario2({ incident, steps: [] })), 'How Fixed')).toEqual([
      '- Resolved manually by carol',
      '- Fix: restarted pgbouncer',
    ]);
  });

  it('leads Why with a confirmed root cause over the top hypothesis', () => {
    const incident = { ...scenario2Incident, rootCause: 'deployment_regression', rootCauseConfirmed: true };
    const why = section(renderPostmortem(scenario2({ incident, why: [] })), 'Why');
    expect(renderPostmortem(scenario2({ incident })).split('\n')).toContain(
      '**Why**: deployment regression (confirmed)',
    );
    expect(why.at(-1)).toBe('  - also considered: connection pool exhaustion (87%)');
  });

  it('reports metrics of an incident nobody acknowledged', () => {
    const incident = {
      ...scenario2Incident,
      acknowledgedAt: undefined,
      acknowledgedBy: undefined,
      highestEscalationLevel: 0,
    };
    expect(section(renderPostmortem(scenario2({ incident })), 'Metrics')).toEqual([
      '- Time to acknowledge: not acknowledged',
      '- Time to resolve: 18m',
      '- Highest escalation level: none',
    ]);
  });

  it('summarises alerts beyond the third in one line', () => {
    const alerts = Array.from({ length: 6 }, (_, i) => ({
      seq: 100 + i,
      at: `2026-04-25T09:1${i}:30.000Z`,
      kind: 'alert_firing',
      text: `alert ${i}`,
    }));
    const timeline = section(renderPostmortem(scenario2({ events: alerts, deployments: [] })), 'Timeline');
    expect(timeline).toEqual([
      '- 09:10 — alert 0',
      '- 09:11 — alert 1',
      '- 09:12 — alert 2',
      '- 09:15 — 3 more alerts fired (last shown here)',
    ]);
  });
});

import { RoutingConfig, incidentWorkflowId, routeAlert, sanitizeKey } from '../../../src/domain/routing';
import { renderTemplate, isValidTemplate } from '../../../src/domain/template';

const config = RoutingConfig.parse({
  severity_aliases: { sev1: 'P1' },
  rules: [
    {
      name: 'failure-rate',
      match: { alertname: 'AirflowTaskFailureRateHigh' },
      set: {
        incident_type: 'task_temporary_failure',
        service: '{{ dag_id }}',
        dedup_key: 'failure_rate/{{ dag_id }}',
        runbook: 'task_temporary_failure',
      },
    },
    {
      name: 'customer-dags',
      match_re: { dag_id: 'customer_.*' },
      set: { severity: 'P1', slack_channel: '#customer-data' },
    },
  ],
});

describe('routeAlert', () => {
  it.each([
    [
      'first matching rule sets the fields, labels fill the rest',
      { alertname: 'AirflowTaskFailureRateHigh', dag_id: 'customer_etl', severity: 'high' },
      {
        rule: 'failure-rate',
        incidentType: 'task_temporary_failure',
        severity: 'P2',
        service: 'customer_etl',
        dedupKey: 'failure_rate/customer_etl',
        runbook: 'task_temporary_failure',
        escalationPolicy: 'default',
        slackChannel: null,
      },
    ],
    [
      'regex matches are anchored',
      { alertname: 'Other', dag_id: 'customer_etl' },
      { rule: 'customer-dags', severity: 'P1', slackChannel: '#customer-data', service: 'customer_etl' },
    ],
    [
      'a partial regex match does not count',
      { alertname: 'Other', dag_id: 'x_customer_etl' },
      { rule: null },
    ],
    [
      'label conventions apply without a rule',
      {
        alertname: 'DiskFull',
        incident_type: 'infra',
        severity: 'critical',
        service: 'warehouse',
        dedup_key: 'disk',
        runbook: 'disk_cleanup',
        escalation_policy: 'infra',
      },
      {
        rule: null,
        incidentType: 'infra',
        severity: 'P1',
        service: 'warehouse',
        dedupKey: 'disk',
        runbook: 'disk_cleanup',
        escalationPolicy: 'infra',
      },
    ],
    [
      'defaults when nothing is labelled',
      { alertname: 'Mystery' },
      { incidentType: 'generic', severity: 'P3', service: 'unknown', dedupKey: 'Mystery', runbook: null },
    ],
    [
      'configured severity aliases are case-insensitive',
      { alertname: 'A', severity: 'SEV1' },
      { severity: 'P1' },
    ],
    ['an unknown severity falls back to P3', { alertname: 'A', severity: 'whatever' }, { severity: 'P3' }],
    [
      'unsafe characters are replaced in ids',
      { alertname: 'A', service: 'my service', dedup_key: 'a b\tc' },
      { service: 'my_service', dedupKey: 'a_b_c' },
    ],
  ])('%s', (_name, labels, expected) => {
    expect(routeAlert(labels, config)).toMatchObject(expected);
  });

  it('builds deterministic workflow ids', () => {
    expect(incidentWorkflowId({ service: 'customer_etl', dedupKey: 'failure_rate/customer_etl' })).toBe(
      'incident:customer_etl:failure_rate/customer_etl',
    );
    expect(sanitizeKey('  ')).toBe('unknown');
  });
});

describe('RoutingConfig', () => {
  it.each([
    [
      {
        rules: [
          { name: 'a', set: {} },
          { name: 'a', set: {} },
        ],
      },
      'rules.1.name',
      'duplicate rule name "a" (first at rules.0)',
    ],
    [
      { rules: [{ name: 'a', match_re: { x: '(' }, set: {} }] },
      'rules.0.match_re.x',
      'is not a valid regular expression',
    ],
    [{ rules: [{ name: 'a', set: { service: '{{ }}' } }] }, 'rules.0.set.service', 'is not a valid template'],
    [{ rules: [{ name: 'a', set: {}, extra: 1 }] }, 'rules.0', 'Unrecognized key: "extra"'],
  ])('rejects %j at %s', (input, path, message) => {
    const result = RoutingConfig.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(path);
    expect(issue.message).toContain(message);
  });
});

describe('label templates', () => {
  it.each([
    ['{{ dag_id }}', { dag_id: 'etl' }, 'etl'],
    ['{{ service | dag_id }}', { dag_id: 'etl' }, 'etl'],
    ['{{ service | "fallback" }}', {}, 'fallback'],
    ['a/{{ x }}/b', { x: '1' }, 'a/1/b'],
    ['{{ missing }}', {}, undefined],
    ['plain', {}, 'plain'],
  ])('%s renders %j as %s', (template, labels, expected) => {
    expect(isValidTemplate(template)).toBe(true);
    expect(renderTemplate(template, labels)).toBe(expected);
  });

  it.each(['{{', '{{ a b }}', '{{ a | }}', '}}'])('%s is invalid', (t) =>
    expect(isValidTemplate(t)).toBe(false),
  );
});

import {
  checkPolicyReferences,
  describeTarget,
  EscalationPoliciesConfig,
  EscalationPolicy,
  jumpLevelFor,
  PolicySnapshot,
  snapshotPolicy,
} from '../../../src/domain/escalation-policy';
import { OncallConfig } from '../../../src/domain/oncall';

const oncall = OncallConfig.parse({
  people: {
    alice: { name: 'Alice', slack_user_id: 'U01ALICE', phone: '+821012345678' },
    bob: { name: 'Bob', slack_user_id: 'U01BOB', phone: '+821023456789' },
    carol: { name: 'Carol', email: 'carol@example.com' },
    dave: { name: 'Dave', phone: '+4915112345678' },
  },
  schedules: {
    team: {
      timezone: 'Asia/Seoul',
      layers: [
        {
          name: 'weekly',
          rotation: 'weekly',
          handoff: { time: '09:00', weekday: 'monday' },
          start: '2026-01-05',
          participants: ['alice', 'bob'],
        },
      ],
      overrides: [{ person: 'dave', from: '2026-02-02T09:00:00+09:00', to: '2026-02-03T09:00:00+09:00' }],
    },
  },
  roles: {
    primary: { schedule: 'team' },
    secondary: { schedule: 'team', offset: 1 },
    manager: { person: 'alice' },
    observers: { people: ['alice', 'carol'] },
  },
  webhooks: { bridge: { url_env: 'BRIDGE_URL' } },
});

const level = (over: object = {}) => ({
  delay: '0m',
  targets: [{ role: 'manager' }],
  channels: ['slack'],
  ...over,
});
const policies = (levels: object[], extra: object = {}) =>
  EscalationPoliciesConfig.parse({ policies: { default: { levels, ...extra } } });

describe('EscalationPoliciesConfig', () => {
  it('applies the documented defaults', () => {
    expect(policies([level()]).policies.default).toEqual({
      levels: [{ delay: '0m', since: 'previous_level', targets: [{ role: 'manager' }], channels: ['slack'] }],
      repeat: 0,
      no_progress_timeout: '30m',
      fallback_channels: ['slack', 'sms', 'phone'],
      severity_rules: [],
    });
  });

  it.each([
    [{ policies: {} }, 'policies', 'missing required policy "default"'],
    [
      { policies: { default: { levels: [] } } },
      'policies.default.levels',
      'Too small: expected array to have >=1 items',
    ],
    [
      { policies: { default: { levels: [level({ delay: '10 min' })] } } },
      'policies.default.levels.0.delay',
      'must be a duration such as "30s", "5m", "1h30m" or "2d"',
    ],
    [
      { policies: { default: { levels: [level({ since: 'ack' })] } } },
      'policies.default.levels.0.since',
      'Invalid option: expected one of "previous_level"|"opened"|"last_progress"',
    ],
    [
      { policies: { default: { levels: [level({ targets: [] })] } } },
      'policies.default.levels.0.targets',
      'Too small: expected array to have >=1 items',
    ],
    [
      { policies: { default: { levels: [level({ channels: [] })] } } },
      'policies.default.levels.0.channels',
      'Too small: expected array to have >=1 items',
    ],
    [
      { policies: { default: { levels: [level({ channels: ['email'] })] } } },
      'policies.default.levels.0.channels.0',
      'Invalid option: expected one of "slack"|"sms"|"phone"|"pagerduty"|"webhook"',
    ],
    [
      { policies: { default: { levels: [level({ channels: ['sms', 'sms'] })] } } },
      'policies.default.levels.0.channels.1',
      'duplicate channel "sms"',
    ],
    [
      { policies: { default: { levels: [level({ targets: [{ role: 'a', person: 'b' }] })] } } },
      'policies.default.levels.0.targets.0',
      'must be exactly one of { person }, { role }, { schedule }, { slack_channel } or { webhook }',
    ],
    [
      { policies: { default: { levels: [level({ targets: [{ team: 'a' }] })] } } },
      'policies.default.levels.0.targets.0',
      'must be exactly one of { person }, { role }, { schedule }, { slack_channel } or { webhook }',
    ],
    [
      { policies: { default: { levels: [level({ targets: [{ slack_channel: 'data-incidents' }] })] } } },
      'policies.default.levels.0.targets.0.slack_channel',
      'must be "#channel-name", a channel id such as "C0123ABCD", or "$incident" (the incident\'s channel)',
    ],
    [
      { policies: { default: { levels: [level({ extra: 1 })] } } },
      'policies.default.levels.0',
      'Unrecognized key: "extra"',
    ],
    [
      { policies: { default: { levels: [level({ name: 'a' }), level({ name: 'a' })] } } },
      'policies.default.levels.1.name',
      'duplicate level name "a" (first at levels.0)',
    ],
    [
      { policies: { default: { levels: [level({ name: 'L2' }), level()] } } },
      'policies.default.levels.1.name',
      'duplicate level name "L2" (first at levels.0)',
    ],
    [
      { policies: { default: { levels: [level()], repeat: 6 } } },
      'policies.default.repeat',
      'Too big: expected number to be <=5',
    ],
    [
      { policies: { default: { levels: [level()], repeat: 1.5 } } },
      'policies.default.repeat',
      'Invalid input: expected int, received number',
    ],
    [
      { policies: { default: { levels: [level()], no_progress_timeout: '30' } } },
      'policies.default.no_progress_timeout',
      'must be a duration such as "30s", "5m", "1h30m" or "2d"',
    ],
    [
      { policies: { default: { levels: [level()], fallback_channels: ['sms', 'webhook'] } } },
      'policies.default.fallback_channels.1',
      'webhook cannot be a fallback channel: it has no per-person address',
    ],
    [
      { policies: { default: { levels: [level()], fallback_channels: ['sms', 'sms'] } } },
      'policies.default.fallback_channels.1',
      'duplicate channel "sms"',
    ],
    [
      {
        policies: { default: { levels: [level()], severity_rules: [{ severity: 'P1', jump_to_level: 2 }] } },
      },
      'policies.default.severity_rules.0.jump_to_level',
      'level 2 does not exist (the policy has 1 levels)',
    ],
    [
      {
        policies: { default: { levels: [level()], severity_rules: [{ severity: 'P1', jump_to_level: 0 }] } },
      },
      'policies.default.severity_rules.0.jump_to_level',
      'Too small: expected number to be >=1',
    ],
    [
      {
        policies: {
          default: { levels: [level()], severity_rules: [{ severity: 'SEV1', jump_to_level: 1 }] },
        },
      },
      'policies.default.severity_rules.0.severity',
      'Invalid option: expected one of "P1"|"P2"|"P3"|"P4"',
    ],
    [
      {
        policies: {
          default: {
            levels: [level(), level()],
            severity_rules: [
              { severity: 'P1', jump_to_level: 2 },
              { severity: 'P1', jump_to_level: 1 },
            ],
          },
        },
      },
      'policies.default.severity_rules.1.severity',
      'duplicate rule for severity P1 (first at severity_rules.0)',
    ],
    [
      { policies: { 'bad name': { levels: [level()] }, default: { levels: [level()] } } },
      'policies.bad name',
      'Invalid key in record',
    ],
  ])('rejects %j at %s', (input, path, message) => {
    const issue = EscalationPoliciesConfig.safeParse(input).error!.issues[0]!;
    expect(`${issue.path.join('.')}: ${issue.message}`).toBe(`${path}: ${message}`);
  });

  it.each([
    [{ person: 'alice' }],
    [{ role: 'primary' }],
    [{ schedule: 'team' }],
    [{ slack_channel: '#data-incidents' }],
    [{ slack_channel: 'C0123ABCD' }],
    [{ slack_channel: '$incident' }],
    [{ webhook: 'bridge' }],
  ])('accepts the target %j', (target) => {
    expect(EscalationPolicy.parse({ levels: [level({ targets: [target] })] }).levels[0]!.targets).toEqual([
      target,
    ]);
  });
});

describe('snapshotPolicy', () => {
  const config = EscalationPoliciesConfig.parse({
    policies: {
      default: { levels: [level()] },
      ladder: {
        description: 'two rungs',
        levels: [level(), level({ name: 'managers', delay: '15m', since: 'opened' })],
        repeat: 2,
        severity_rules: [{ severity: 'P2', jump_to_level: 2 }],
      },
    },
  });

  it('applies every default, level names included', () => {
    expect(snapshotPolicy(config, 'ladder')).toEqual({
      name: 'ladder',
      description: 'two rungs',
      levels: [
        {
          name: 'L1',
          delay: '0m',
          since: 'previous_level',
          targets: [{ role: 'manager' }],
          channels: ['slack'],
        },
        {
          name: 'managers',
          delay: '15m',
          since: 'opened',
          targets: [{ role: 'manager' }],
          channels: ['slack'],
        },
      ],
      repeat: 2,
      no_progress_timeout: '30m',
      fallback_channels: ['slack', 'sms', 'phone'],
      severity_rules: [{ severity: 'P2', jump_to_level: 2 }],
    });
  });

  it('produces plain JSON that validates as a snapshot', () => {
    const snapshot = snapshotPolicy(config, 'default')!;
    expect(PolicySnapshot.parse(JSON.parse(JSON.stringify(snapshot)))).toEqual(snapshot);
  });

  it('does not share arrays with the config', () => {
    const snapshot = snapshotPolicy(config, 'ladder')!;
    snapshot.levels[0]!.channels.push('sms');
    expect(config.policies.ladder!.levels[0]!.channels).toEqual(['slack']);
  });

  it('answers undefined for an unknown policy', () => {
    expect(snapshotPolicy(config, 'nope')).toBeUndefined();
  });
});

describe('jumpLevelFor', () => {
  const rules = {
    severity_rules: [
      { severity: 'P1' as const, jump_to_level: 4 },
      { severity: 'P2' as const, jump_to_level: 3 },
    ],
  };
  it.each([
    ['P1', 4],
    ['P2', 3],
    ['P3', undefined],
    ['P4', undefined],
  ] as const)('jumps a %s incident to level %s', (severity, expected) => {
    expect(jumpLevelFor(rules, severity)).toBe(expected);
  });

  it('applies a rule to worse severities too', () => {
    expect(jumpLevelFor({ severity_rules: [{ severity: 'P3', jump_to_level: 2 }] }, 'P1')).toBe(2);
  });

  it('jumps nowhere without rules', () => {
    expect(jumpLevelFor({ severity_rules: [] }, 'P1')).toBeUndefined();
  });
});

describe('describeTarget', () => {
  it.each([
    [{ person: 'alice' }, 'person alice'],
    [{ role: 'primary' }, 'role primary'],
    [{ schedule: 'team' }, 'schedule team'],
    [{ slack_channel: '#data' }, '#data'],
    [{ slack_channel: '$incident' }, 'the incident channel'],
    [{ webhook: 'bridge' }, 'webhook bridge'],
  ])('describes %j as %s', (target, text) => {
    expect(describeTarget(target)).toBe(text);
  });
});

describe('checkPolicyReferences', () => {
  const at = 'policies.default.levels.0';
  it.each([
    ['an unknown person', level({ targets: [{ person: 'zed' }] }), [`${at}.targets.0: unknown person "zed"`]],
    ['an unknown role', level({ targets: [{ role: 'zed' }] }), [`${at}.targets.0: unknown role "zed"`]],
    [
      'an unknown schedule',
      level({ targets: [{ schedule: 'zed' }] }),
      [`${at}.targets.0: unknown schedule "zed"`],
    ],
    [
      'an unknown webhook',
      level({ targets: [{ webhook: 'zed' }], channels: ['webhook'] }),
      [`${at}.targets.0: unknown webhook "zed"`],
    ],
    [
      'a slack_channel target without the slack channel',
      level({ targets: [{ slack_channel: '#data' }, { role: 'manager' }], channels: ['sms'] }),
      [`${at}.targets.0: a slack_channel target needs the slack channel in channels`],
    ],
    [
      'a webhook target without the webhook channel',
      level({ targets: [{ webhook: 'bridge' }, { role: 'manager' }], channels: ['slack'] }),
      [`${at}.targets.0: a webhook target needs the webhook channel in channels`],
    ],
    [
      'the webhook channel without a webhook target',
      level({ channels: ['slack', 'webhook'] }),
      [`${at}.channels.1: the webhook channel needs a webhook target`],
    ],
    [
      'sms with only a channel target',
      level({ targets: [{ slack_channel: '#data' }], channels: ['slack', 'sms'] }),
      [`${at}.channels.1: sms needs a person, role or schedule target`],
    ],
    [
      'phone with only a webhook target',
      level({ targets: [{ webhook: 'bridge' }], channels: ['webhook', 'phone'] }),
      [`${at}.channels.1: phone needs a person, role or schedule target`],
    ],
    [
      'slack with only a webhook target',
      level({ targets: [{ webhook: 'bridge' }], channels: ['webhook', 'slack'] }),
      [`${at}.channels.1: slack needs a slack_channel, person, role or schedule target`],
    ],
    [
      'a person without a phone paged by sms and phone',
      level({ targets: [{ person: 'carol' }], channels: ['sms', 'phone'] }),
      [`${at}.targets.0: person "carol" has no phone (needed for sms, phone)`],
    ],
    [
      'a person without a Slack id messaged on Slack',
      level({ targets: [{ person: 'dave' }], channels: ['slack'] }),
      [`${at}.targets.0: person "dave" has no slack_user_id (needed for slack)`],
    ],
    [
      'a schedule override person without a Slack id',
      level({ targets: [{ role: 'primary' }], channels: ['slack', 'sms'] }),
      [
        `${at}.targets.0: role "primary" can resolve to person "dave", who has no slack_user_id (needed for slack)`,
      ],
    ],
    [
      'a schedule target reaching someone without a Slack id',
      level({ targets: [{ schedule: 'team' }], channels: ['slack'] }),
      [
        `${at}.targets.0: schedule "team" can resolve to person "dave", who has no slack_user_id (needed for slack)`,
      ],
    ],
    [
      'a people role with someone lacking a phone',
      level({ targets: [{ role: 'observers' }], channels: ['phone'] }),
      [
        `${at}.targets.0: role "observers" can resolve to person "carol", who has no phone (needed for phone)`,
      ],
    ],
  ])('reports %s', (_title, lvl, expected) => {
    const problems = checkPolicyReferences(policies([lvl]), oncall);
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual(expected);
  });

  it.each([
    [
      'people reachable on every channel',
      level({ targets: [{ person: 'alice' }], channels: ['slack', 'sms', 'phone'] }),
    ],
    ['a Slack channel on Slack', level({ targets: [{ slack_channel: '$incident' }], channels: ['slack'] })],
    ['a webhook on the webhook channel', level({ targets: [{ webhook: 'bridge' }], channels: ['webhook'] })],
    [
      'PagerDuty for people without contacts',
      level({ targets: [{ person: 'carol' }], channels: ['pagerduty'] }),
    ],
    ['sms to people with phones', level({ targets: [{ role: 'primary' }], channels: ['sms', 'phone'] })],
  ])('accepts %s', (_title, lvl) => {
    expect(checkPolicyReferences(policies([lvl]), oncall)).toEqual([]);
  });

  it('checks every policy and level', () => {
    const config = EscalationPoliciesConfig.parse({
      policies: {
        default: { levels: [level(), level({ targets: [{ role: 'x' }] })] },
        other: { levels: [level({ targets: [{ person: 'y' }] })] },
      },
    });
    expect(checkPolicyReferences(config, oncall)).toEqual([
      { path: 'policies.default.levels.1.targets.0', message: 'unknown role "x"' },
      { path: 'policies.other.levels.0.targets.0', message: 'unknown person "y"' },
    ]);
  });
});

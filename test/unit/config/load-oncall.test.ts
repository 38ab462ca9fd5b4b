import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadOncall } from '../../../src/config/load-oncall';
import { formatProblem } from '../../../src/config/yaml-file';
import { snapshotPolicy } from '../../../src/domain/escalation-policy';

const FIXTURES = resolve(__dirname, '../../fixtures/config/oncall');
const FILES = ['oncall.yaml', 'escalation-policies.yaml'] as const;

/** Expected problems per invalid fixture, with the file shown by its name in the config directory. */
const INVALID: Record<string, string[]> = {
  'bad-phone.oncall.yaml': [
    'oncall.yaml:people.alice.phone: must be an E.164 phone number such as "+821012345678"',
  ],
  'bad-slack-user-id.oncall.yaml': [
    'oncall.yaml:people.alice.slack_user_id: must be a Slack user id such as "U01ABCDEF"',
  ],
  'bad-timezone.oncall.yaml': [
    'oncall.yaml:schedules.team.timezone: unknown time zone "Asia/Seol" (use an IANA name such as "Europe/Berlin")',
  ],
  'duplicate-person.oncall.yaml': ['oncall.yaml: line 3, column 3: Map keys must be unique'],
  'empty-restriction.oncall.yaml': [
    'oncall.yaml:schedules.team.layers.0.restrict.0.to: must differ from from (use from "00:00" to "24:00" for a whole day)',
  ],
  'missing-manager-role.oncall.yaml': ['oncall.yaml:roles: missing required role "manager"'],
  'no-contact-method.oncall.yaml': [
    'oncall.yaml:people.erin: needs at least one contact method (slack_user_id, phone or email)',
  ],
  'override-ends-before-start.oncall.yaml': ['oncall.yaml:schedules.team.overrides.0.to: must be after from'],
  'start-not-on-handoff-weekday.oncall.yaml': [
    'oncall.yaml:schedules.team.layers.0.start: 2026-01-06 is a tuesday, not the hand-off weekday monday',
  ],
  'unknown-override-person.oncall.yaml': [
    'oncall.yaml:schedules.team.overrides.0.person: unknown person "zed"',
  ],
  'unknown-participant.oncall.yaml': [
    'oncall.yaml:schedules.team.layers.0.participants.1: unknown person "zed"',
  ],
  'unknown-role-person.oncall.yaml': ['oncall.yaml:roles.manager.person: unknown person "zed"'],
  'unknown-role-schedule.oncall.yaml': ['oncall.yaml:roles.primary.schedule: unknown schedule "nope"'],
  'webhook-with-url.oncall.yaml': [
    'oncall.yaml:webhooks.bridge.url_env: Invalid input: expected string, received undefined',
    'oncall.yaml:webhooks.bridge: Unrecognized key: "url"',
  ],
  'weekly-without-weekday.oncall.yaml': [
    'oncall.yaml:schedules.team.layers.0.handoff.weekday: is required for a weekly rotation',
  ],
  'ambiguous-target.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.2.targets.0: must be exactly one of { person }, { role }, { schedule }, { slack_channel } or { webhook }',
  ],
  'bad-delay.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.1.delay: must be a duration such as "30s", "5m", "1h30m" or "2d"',
  ],
  'jump-beyond-last-level.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.severity_rules.0.jump_to_level: level 5 does not exist (the policy has 4 levels)',
  ],
  'missing-default.escalation-policies.yaml': [
    'escalation-policies.yaml:policies: missing required policy "default"',
  ],
  'repeat-too-large.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.repeat: Too big: expected number to be <=5',
  ],
  'slack-channel-target-without-slack.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.0.targets.0: a slack_channel target needs the slack channel in channels',
  ],
  'unknown-channel.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.2.channels.1: Invalid option: expected one of "slack"|"sms"|"phone"|"pagerduty"|"webhook"',
  ],
  'unknown-person.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.1.targets.0: unknown person "zed"',
  ],
  'unknown-role.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.1.targets.0: unknown role "x"',
  ],
  'unknown-schedule.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.1.targets.0: unknown schedule "nope"',
  ],
  'unknown-webhook.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.3.targets.1: unknown webhook "nope"',
  ],
  'webhook-target-without-webhook-channel.escalation-policies.yaml': [
    'escalation-policies.yaml:policies.default.levels.3.targets.1: a webhook target needs the webhook channel in channels',
  ],
};

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A config directory holding the valid fixtures, with `replace` written over some of them. */
function configDir(replace: Partial<Record<(typeof FILES)[number], string | null>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-oncall-'));
  dirs.push(dir);
  for (const name of FILES) {
    const source = replace[name];
    if (source === null) continue;
    copyFileSync(source ?? join(FIXTURES, 'valid', name), join(dir, name));
  }
  return dir;
}

function problemsIn(dir: string): string[] {
  return loadOncall(dir).problems.map((p) => formatProblem(p).replace(`${dir}/`, ''));
}

describe('loadOncall', () => {
  it('loads the valid fixtures', () => {
    const result = loadOncall(configDir());
    expect(result.problems).toEqual([]);
    expect(Object.keys(result.value!.oncall.people)).toEqual(['alice', 'bob', 'erin']);
    expect(Object.keys(result.value!.policies.policies)).toEqual(['default']);
  });

  it('has an expected problem for every invalid fixture', () => {
    expect(readdirSync(join(FIXTURES, 'invalid')).sort()).toEqual(Object.keys(INVALID).sort());
  });

  it.each(Object.entries(INVALID))('reports %s', (fixture, expected) => {
    const file = FILES.find((name) => fixture.endsWith(`.${name}`))!;
    const dir = configDir({ [file]: join(FIXTURES, 'invalid', fixture) });
    const result = loadOncall(dir);
    expect(result.value).toBeUndefined();
    expect(problemsIn(dir)).toEqual(expected);
  });

  it('reports a missing file', () => {
    expect(problemsIn(configDir({ 'escalation-policies.yaml': null }))).toEqual([
      'escalation-policies.yaml: file not found',
    ]);
  });

  it('reports problems in both files and skips cross-references while either is invalid', () => {
    const dir = configDir({
      'oncall.yaml': join(FIXTURES, 'invalid', 'bad-phone.oncall.yaml'),
      'escalation-policies.yaml': join(FIXTURES, 'invalid', 'unknown-role.escalation-policies.yaml'),
    });
    writeFileSync(join(dir, 'escalation-policies.yaml'), 'policies: {}\n');
    expect(problemsIn(dir)).toEqual([
      'oncall.yaml:people.alice.phone: must be an E.164 phone number such as "+821012345678"',
      'escalation-policies.yaml:policies: missing required policy "default"',
    ]);
  });
});

describe('shipped config', () => {
  const shipped = loadOncall(resolve(__dirname, '../../../config'));

  it('loads config/oncall.yaml and config/escalation-policies.yaml without problems', () => {
    expect(shipped.problems.map(formatProblem)).toEqual([]);
  });

  it('ships the seed ladder as the default policy', () => {
    expect(snapshotPolicy(shipped.value!.policies, 'default')).toEqual({
      name: 'default',
      description: 'Slack first, then the primary, the secondary and the manager',
      levels: [
        {
          name: 'L1 Slack alert',
          delay: '0m',
          since: 'previous_level',
          targets: [{ slack_channel: '$incident' }],
          channels: ['slack'],
        },
        {
          name: 'L2 primary on-call',
          delay: '10m',
          since: 'previous_level',
          targets: [{ role: 'primary' }],
          channels: ['sms', 'slack'],
        },
        {
          name: 'L3 secondary on-call',
          delay: '30m',
          since: 'last_progress',
          targets: [{ role: 'secondary' }],
          channels: ['phone', 'sms'],
        },
        {
          name: 'L4 manager',
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
    });
  });

  it("ships the seed's PagerDuty example as the data_platform policy", () => {
    const policy = snapshotPolicy(shipped.value!.policies, 'data_platform')!;
    expect(policy.levels.map((l) => [l.delay, l.since, l.targets, l.channels])).toEqual([
      ['0m', 'previous_level', [{ role: 'primary' }, { role: 'secondary' }], ['pagerduty', 'slack']],
      ['15m', 'opened', [{ role: 'team_lead' }], ['pagerduty', 'slack']],
      ['30m', 'opened', [{ role: 'manager' }], ['pagerduty', 'slack']],
    ]);
  });

  it('ships a team of six with the required roles', () => {
    const { oncall } = shipped.value!;
    expect(Object.keys(oncall.people)).toHaveLength(6);
    expect(Object.keys(oncall.roles)).toEqual(['primary', 'secondary', 'manager', 'team_lead']);
  });
});

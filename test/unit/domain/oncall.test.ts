import {
  nextHandoffAfter,
  OncallConfig,
  onCallAt,
  resolveRole,
  resolveTarget,
  rolePeople,
} from '../../../src/domain/oncall';

const at = (iso: string): number => Date.parse(iso);
const contact = (name: string, slack: string, phone: string) => ({
  name,
  slack_user_id: slack,
  phone,
  email: `${name.toLowerCase()}@example.com`,
});

const weekly = (start: string, participants: string[], time = '09:00', weekday = 'monday') => ({
  name: 'weekly',
  rotation: 'weekly',
  handoff: { time, weekday },
  start,
  participants,
});
const daily = (start: string, participants: string[], time = '09:00') => ({
  name: 'daily',
  rotation: 'daily',
  handoff: { time },
  start,
  participants,
});
const abc = ['alice', 'bob', 'carol'];

const config = OncallConfig.parse({
  people: {
    alice: { ...contact('Alice', 'U01ALICE', '+821012345678'), timezone: 'Asia/Seoul' },
    bob: contact('Bob', 'U01BOB', '+821023456789'),
    carol: contact('Carol', 'U01CAROL', '+821034567890'),
    dave: contact('Dave', 'U01DAVE', '+4915112345678'),
    erin: contact('Erin', 'U01ERIN', '+821045678901'),
    frank: { name: 'Frank', email: 'frank@example.com' },
  },
  schedules: {
    'seoul-weekly': { timezone: 'Asia/Seoul', layers: [weekly('2026-01-05', abc)] },
    'berlin-daily': { timezone: 'Europe/Berlin', layers: [daily('2026-03-27', abc)] },
    'berlin-0230': { timezone: 'Europe/Berlin', layers: [daily('2026-03-27', abc, '02:30')] },
    'ny-daily': { timezone: 'America/New_York', layers: [daily('2026-03-06', abc)] },
    'ny-0230': { timezone: 'America/New_York', layers: [daily('2026-03-06', abc, '02:30')] },
    'ny-weekly': { timezone: 'America/New_York', layers: [weekly('2026-10-04', abc, '01:30', 'sunday')] },
    'zone-per-layer': {
      timezone: 'Asia/Seoul',
      layers: [{ ...daily('2026-03-27', abc), handoff: { time: '09:00', timezone: 'Europe/Berlin' } }],
    },
    layered: {
      timezone: 'Asia/Seoul',
      layers: [
        weekly('2026-01-05', abc),
        {
          ...daily('2026-01-05', ['dave', 'erin']),
          name: 'business-hours',
          restrict: [{ weekdays: ['mon', 'tue', 'wed', 'thu', 'friday'], from: '09:00', to: '18:00' }],
        },
        { ...weekly('2026-06-01', ['frank']), name: 'from-june' },
      ],
    },
    nights: {
      timezone: 'Asia/Seoul',
      layers: [
        {
          ...daily('2026-01-05', ['erin']),
          restrict: [
            { weekdays: ['fri'], from: '22:00', to: '06:00' },
            { weekdays: ['sun'], from: '12:00', to: '24:00' },
          ],
        },
      ],
    },
    'berlin-window': {
      timezone: 'Europe/Berlin',
      layers: [
        {
          ...daily('2026-10-01', ['alice'], '00:00'),
          restrict: [{ weekdays: ['sun'], from: '00:00', to: '02:30' }],
        },
      ],
    },
    overrides: {
      timezone: 'Asia/Seoul',
      layers: [weekly('2026-01-05', abc)],
      overrides: [
        { person: 'dave', from: '2026-02-02T12:00:00+09:00', to: '2026-02-03T12:00:00+09:00' },
        { person: 'erin', from: '2026-02-03T00:00:00+09:00', to: '2026-02-04T00:00:00+09:00' },
        { person: 'erin', from: '2026-03-03T00:00:00+09:00', to: '2026-03-04T00:00:00+09:00' },
        { person: 'frank', from: '2026-03-01T00:00:00+09:00', to: '2026-03-10T00:00:00+09:00' },
      ],
    },
    'same-person': { timezone: 'Asia/Seoul', layers: [daily('2026-01-05', ['alice', 'alice', 'bob'])] },
    solo: { timezone: 'Asia/Seoul', layers: [daily('2026-01-05', ['frank'])] },
  },
  roles: {
    primary: { schedule: 'seoul-weekly' },
    secondary: { schedule: 'seoul-weekly', offset: 1 },
    manager: { person: 'erin' },
    team_lead: { people: ['frank', 'dave', 'frank'] },
    business: { schedule: 'layered', offset: 1 },
    nights: { schedule: 'nights' },
  },
  webhooks: {
    'ops-bridge': { url_env: 'OPS_BRIDGE_WEBHOOK_URL', secret_env: 'OPS_BRIDGE_WEBHOOK_SECRET' },
    plain: { url_env: 'PLAIN_WEBHOOK_URL' },
  },
});

describe('onCallAt', () => {
  it.each([
    ['nobody before the first hand-off', '2026-01-05T08:59:59.999+09:00', undefined],
    ['participant 0 from the first hand-off', '2026-01-05T09:00:00+09:00', 'alice'],
    ['the same person until just before the next hand-off', '2026-01-12T08:59:59.999+09:00', 'alice'],
    ['the next participant at the hand-off', '2026-01-12T09:00:00+09:00', 'bob'],
    ['the rotation wraps round', '2026-01-26T09:00:00+09:00', 'alice'],
    ['the last shift of the year', '2026-12-28T08:59:59+09:00', 'carol'],
    ['the 52nd hand-off', '2026-12-28T09:00:00+09:00', 'alice'],
  ])('weekly rotation: %s', (_title, iso, expected) => {
    expect(onCallAt(config, 'seoul-weekly', at(iso))).toBe(expected);
  });

  it.each([
    ['the day before spring forward ends at 09:00 CET', 'berlin-daily', '2026-03-28T07:59:59Z', 'alice'],
    ['a hand-off at 09:00 CET', 'berlin-daily', '2026-03-28T08:00:00Z', 'bob'],
    ['the spring-forward shift lasts 23 hours', 'berlin-daily', '2026-03-29T06:59:59Z', 'bob'],
    ['the hand-off after spring forward is at 09:00 CEST', 'berlin-daily', '2026-03-29T07:00:00Z', 'carol'],
    ['before the hand-off on the eve of fall back', 'berlin-daily', '2026-10-24T06:59:59Z', 'alice'],
    ['the hand-off on the eve of fall back at 09:00 CEST', 'berlin-daily', '2026-10-24T07:00:00Z', 'bob'],
    ['the fall-back shift lasts 25 hours', 'berlin-daily', '2026-10-25T07:59:59Z', 'bob'],
    ['the hand-off after fall back is at 09:00 CET', 'berlin-daily', '2026-10-25T08:00:00Z', 'carol'],
    ['New York before its spring-forward day', 'ny-daily', '2026-03-07T13:59:59Z', 'alice'],
    ['New York hands off at 09:00 EST', 'ny-daily', '2026-03-07T14:00:00Z', 'bob'],
    ['New York spring-forward shift lasts 23 hours', 'ny-daily', '2026-03-08T12:59:59Z', 'bob'],
    ['New York hands off at 09:00 EDT', 'ny-daily', '2026-03-08T13:00:00Z', 'carol'],
    ['New York hands off at 09:00 EDT before fall back', 'ny-daily', '2026-10-31T13:00:00Z', 'carol'],
    ['New York fall-back shift lasts 25 hours', 'ny-daily', '2026-11-01T13:59:59Z', 'carol'],
    ['New York hands off at 09:00 EST after fall back', 'ny-daily', '2026-11-01T14:00:00Z', 'alice'],
    ['a layer hands off in its own time zone', 'zone-per-layer', '2026-03-29T07:00:00Z', 'carol'],
  ])('daylight saving time: %s', (_title, schedule, iso, expected) => {
    expect(onCallAt(config, schedule, at(iso))).toBe(expected);
  });

  it.each([
    ['Berlin: 02:30 the day before is 01:30Z', 'berlin-0230', '2026-03-28T01:30:00Z', 'bob'],
    [
      'Berlin: 03:00 CEST is after 02:30 on the wall but before the moved hand-off',
      'berlin-0230',
      '2026-03-29T01:00:00Z',
      'bob',
    ],
    ['Berlin: just before 03:30 CEST', 'berlin-0230', '2026-03-29T01:29:59Z', 'bob'],
    ['Berlin: a skipped 02:30 hands off at 03:30 CEST', 'berlin-0230', '2026-03-29T01:30:00Z', 'carol'],
    ['Berlin: just before the first 02:30 of fall back', 'berlin-0230', '2026-10-25T00:29:59Z', 'bob'],
    [
      'Berlin: a repeated 02:30 hands off at its first occurrence (CEST)',
      'berlin-0230',
      '2026-10-25T00:30:00Z',
      'carol',
    ],
    ['Berlin: the second 02:30 (CET) hands off nothing', 'berlin-0230', '2026-10-25T01:30:00Z', 'carol'],
    ['Berlin: the next day hands off at 02:30 CET', 'berlin-0230', '2026-10-26T01:30:00Z', 'alice'],
    ['New York: 03:00 EDT is before the moved hand-off', 'ny-0230', '2026-03-08T07:00:00Z', 'bob'],
    ['New York: a skipped 02:30 hands off at 03:30 EDT', 'ny-0230', '2026-03-08T07:30:00Z', 'carol'],
    ['New York: the next day hands off at 02:30 EDT', 'ny-0230', '2026-03-09T06:30:00Z', 'alice'],
    ['New York: just before the first 01:30 of fall back', 'ny-weekly', '2026-11-01T05:29:59Z', 'alice'],
    [
      'New York: a repeated 01:30 hands off at its first occurrence (EDT)',
      'ny-weekly',
      '2026-11-01T05:30:00Z',
      'bob',
    ],
    ['New York: the second 01:30 (EST) hands off nothing', 'ny-weekly', '2026-11-01T06:30:00Z', 'bob'],
    ['New York: the week after hands off at 01:30 EST', 'ny-weekly', '2026-11-08T06:30:00Z', 'carol'],
  ])('hand-off inside a skipped or repeated hour: %s', (_title, schedule, iso, expected) => {
    expect(onCallAt(config, schedule, at(iso))).toBe(expected);
  });

  it.each([
    ['nobody before any layer starts', '2026-01-05T08:59:59+09:00', undefined],
    ['a later layer wins inside its window', '2026-01-05T10:00:00+09:00', 'dave'],
    ['the later layer rotates daily', '2026-01-06T10:00:00+09:00', 'erin'],
    ['the later layer covers until just before the window ends', '2026-01-05T17:59:59+09:00', 'dave'],
    ['the lower layer applies from the window end', '2026-01-05T18:00:00+09:00', 'alice'],
    ['a long weekday name counts in restrictions', '2026-01-09T10:00:00+09:00', 'dave'],
    ['the lower layer applies on days outside the window', '2026-01-10T10:00:00+09:00', 'alice'],
    ['a layer that has not started yet does not cover', '2026-06-01T08:59:59+09:00', 'carol'],
    ['a later layer wins once it starts', '2026-06-01T09:00:00+09:00', 'frank'],
  ])('layers and restrictions: %s', (_title, iso, expected) => {
    expect(onCallAt(config, 'layered', at(iso))).toBe(expected);
  });

  it.each([
    ['a window crossing midnight covers its first evening', '2026-01-09T23:00:00+09:00', 'erin'],
    ['a window crossing midnight covers the next morning', '2026-01-10T05:59:59+09:00', 'erin'],
    ['a window crossing midnight ends at its to time', '2026-01-10T06:00:00+09:00', undefined],
    ['nobody before a window opens', '2026-01-09T21:59:59+09:00', undefined],
    ['a window opens only on its weekdays', '2026-01-10T23:00:00+09:00', undefined],
    ['a window opens at its from time', '2026-01-11T12:00:00+09:00', 'erin'],
    ['a window to 24:00 covers the last second of the day', '2026-01-11T23:59:59+09:00', 'erin'],
    ['a window to 24:00 ends at midnight', '2026-01-12T00:00:00+09:00', undefined],
  ])('restriction windows: %s', (_title, iso, expected) => {
    expect(onCallAt(config, 'nights', at(iso))).toBe(expected);
  });

  it.each([
    ['the window covers before the repeated hour', '2026-10-24T22:30:00Z', 'alice'],
    ['the window covers until just before the first 02:30', '2026-10-25T00:29:59Z', 'alice'],
    ['the window ends at the first 02:30 (CEST)', '2026-10-25T00:30:00Z', undefined],
    ['the repeated 02:15 (CET) is outside the window', '2026-10-25T01:15:00Z', undefined],
    ['the window does not cover the Saturday before', '2026-10-24T21:59:59Z', undefined],
  ])('a restriction window across fall back: %s', (_title, iso, expected) => {
    expect(onCallAt(config, 'berlin-window', at(iso))).toBe(expected);
  });

  it.each([
    ['the layer applies before an override', '2026-02-02T11:59:59+09:00', 'bob'],
    ['an override wins from its start', '2026-02-02T12:00:00+09:00', 'dave'],
    ['of two partly overlapping overrides the later-starting one wins', '2026-02-03T00:00:00+09:00', 'erin'],
    ['the second override still applies after the first ends', '2026-02-03T13:00:00+09:00', 'erin'],
    ['an override ends at its to instant', '2026-02-04T00:00:00+09:00', 'bob'],
    ['an outer override applies outside the nested one', '2026-03-02T00:00:00+09:00', 'frank'],
    ['a nested override wins even when listed first', '2026-03-03T12:00:00+09:00', 'erin'],
    ['the outer override resumes after the nested one', '2026-03-04T00:00:00+09:00', 'frank'],
    ['the rotation resumes after the overrides', '2026-03-10T00:00:00+09:00', 'alice'],
  ])('overrides: %s', (_title, iso, expected) => {
    expect(onCallAt(config, 'overrides', at(iso))).toBe(expected);
  });

  it.each([
    ['offset 1 is the next participant', 'seoul-weekly', 1, 'bob'],
    ['offset 2 is two participants on', 'seoul-weekly', 2, 'carol'],
    ['an offset that wraps to the current participant is nobody', 'seoul-weekly', 3, undefined],
    ['an offset past the end wraps round', 'seoul-weekly', 4, 'bob'],
    ['a negative offset is the previous participant', 'seoul-weekly', -1, 'carol'],
    ['offset 1 in a one-person layer is nobody', 'solo', 1, undefined],
    ['an offset ignores an override and follows the layer', 'overrides', 1, 'carol'],
    ['an offset follows the winning layer', 'layered', 1, 'erin'],
  ])('offsets: %s', (_title, schedule, offset, expected) => {
    const when = schedule === 'overrides' ? '2026-02-02T12:00:00+09:00' : '2026-01-05T10:00:00+09:00';
    expect(onCallAt(config, schedule, at(when), offset)).toBe(expected);
  });

  it('answers undefined for an unknown schedule', () => {
    expect(onCallAt(config, 'nope', at('2026-02-02T12:00:00+09:00'))).toBeUndefined();
  });

  it('does not treat inherited object properties as schedules', () => {
    expect(onCallAt(config, 'toString', at('2026-02-02T12:00:00+09:00'))).toBeUndefined();
  });
});

describe('resolveRole', () => {
  const monday = at('2026-01-12T10:00:00+09:00');
  it.each([
    ['a schedule role names who is on call', 'primary', ['bob']],
    ['a schedule role with an offset names the next participant', 'secondary', ['carol']],
    ['a person role names the person', 'manager', ['erin']],
    ['a people role names each person once', 'team_lead', ['frank', 'dave']],
    ['an offset role follows a restricted layer', 'business', ['dave']],
    ['a schedule role with nobody on call names nobody', 'nights', []],
    ['an unknown role names nobody', 'nope', []],
  ])('%s', (_title, role, expected) => {
    expect(resolveRole(config, role, monday)).toEqual(expected);
  });

  it('lists everyone a schedule role can resolve to', () => {
    expect(rolePeople(config, 'business')).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'frank']);
  });
});

describe('resolveTarget', () => {
  const monday = at('2026-01-12T10:00:00+09:00');
  const bob = {
    id: 'bob',
    name: 'Bob',
    slack_user_id: 'U01BOB',
    phone: '+821023456789',
    email: 'bob@example.com',
  };

  it('resolves a person to their contacts', () => {
    expect(resolveTarget(config, { person: 'frank' }, monday)).toEqual({
      kind: 'people',
      target: { person: 'frank' },
      people: [{ id: 'frank', name: 'Frank', email: 'frank@example.com' }],
    });
  });

  it('resolves a role to whoever holds it at the instant', () => {
    expect(resolveTarget(config, { role: 'primary' }, monday)).toEqual({
      kind: 'people',
      target: { role: 'primary' },
      people: [bob],
    });
  });

  it('resolves a schedule to whoever is on call', () => {
    expect(resolveTarget(config, { schedule: 'seoul-weekly' }, monday)).toEqual({
      kind: 'people',
      target: { schedule: 'seoul-weekly' },
      people: [bob],
    });
  });

  it('keeps a person time zone', () => {
    const result = resolveTarget(config, { person: 'alice' }, monday);
    expect(result.kind === 'people' && result.people[0]!.timezone).toBe('Asia/Seoul');
  });

  it('resolves a people role to all its people', () => {
    const result = resolveTarget(config, { role: 'team_lead' }, monday);
    expect(result.kind === 'people' && result.people.map((p) => p.id)).toEqual(['frank', 'dave']);
  });

  it('passes a Slack channel through', () => {
    expect(resolveTarget(config, { slack_channel: '#data-incidents' }, monday)).toEqual({
      kind: 'slack_channel',
      channel: '#data-incidents',
    });
  });

  it('replaces the incident channel when it is known', () => {
    expect(
      resolveTarget(config, { slack_channel: '$incident' }, monday, { incidentChannel: 'C0INCIDENT' }),
    ).toEqual({ kind: 'slack_channel', channel: 'C0INCIDENT' });
  });

  it('keeps the incident channel placeholder when the channel is not known', () => {
    expect(resolveTarget(config, { slack_channel: '$incident' }, monday)).toEqual({
      kind: 'slack_channel',
      channel: '$incident',
    });
  });

  it('resolves a webhook to the names of its environment variables', () => {
    expect(resolveTarget(config, { webhook: 'ops-bridge' }, monday)).toEqual({
      kind: 'webhook',
      webhook: 'ops-bridge',
      url_env: 'OPS_BRIDGE_WEBHOOK_URL',
      secret_env: 'OPS_BRIDGE_WEBHOOK_SECRET',
    });
  });

  it('omits the secret of a webhook without one', () => {
    expect(resolveTarget(config, { webhook: 'plain' }, monday)).toEqual({
      kind: 'webhook',
      webhook: 'plain',
      url_env: 'PLAIN_WEBHOOK_URL',
    });
  });

  it.each([
    [{ person: 'zed' }, 'unknown person "zed"'],
    [{ role: 'zed' }, 'unknown role "zed"'],
    [{ schedule: 'zed' }, 'unknown schedule "zed"'],
    [{ webhook: 'zed' }, 'unknown webhook "zed"'],
    [{ role: 'nights' }, 'nobody holds role "nights" now'],
    [{ schedule: 'nights' }, 'nobody is on call for schedule "nights" now'],
  ])('leaves %j unresolved: %s', (target, reason) => {
    expect(resolveTarget(config, target, monday)).toEqual({ kind: 'unresolved', target, reason });
  });
});

describe('nextHandoffAfter', () => {
  it.each([
    ['the next weekly hand-off', 'seoul-weekly', '2026-01-07T15:00:00+09:00', '2026-01-12T00:00:00.000Z'],
    [
      'the first hand-off before a rotation starts',
      'seoul-weekly',
      '2025-12-31T00:00:00+09:00',
      '2026-01-05T00:00:00.000Z',
    ],
    [
      'the hand-off after, not at, the given instant',
      'seoul-weekly',
      '2026-01-12T09:00:00+09:00',
      '2026-01-19T00:00:00.000Z',
    ],
    ['a hand-off across spring forward', 'berlin-daily', '2026-03-28T12:00:00Z', '2026-03-29T07:00:00.000Z'],
    [
      'a skipped hand-off time moved after the gap',
      'berlin-0230',
      '2026-03-28T12:00:00Z',
      '2026-03-29T01:30:00.000Z',
    ],
    ['the start of an override', 'overrides', '2026-02-02T10:00:00+09:00', '2026-02-02T03:00:00.000Z'],
    [
      'the start of an overlapping override',
      'overrides',
      '2026-02-02T13:00:00+09:00',
      '2026-02-02T15:00:00.000Z',
    ],
    ['the end of an override', 'overrides', '2026-02-03T13:00:00+09:00', '2026-02-03T15:00:00.000Z'],
    ['a restriction window opening', 'layered', '2026-01-05T08:00:00+09:00', '2026-01-05T00:00:00.000Z'],
    ['a restriction window closing', 'layered', '2026-01-05T10:00:00+09:00', '2026-01-05T09:00:00.000Z'],
    ['the next window after a weekend', 'layered', '2026-01-10T12:00:00+09:00', '2026-01-12T00:00:00.000Z'],
    [
      'a hand-off that keeps the same person is skipped',
      'same-person',
      '2026-01-05T10:00:00+09:00',
      '2026-01-07T00:00:00.000Z',
    ],
    ['a window end across fall back', 'berlin-window', '2026-10-24T23:00:00Z', '2026-10-25T00:30:00.000Z'],
  ])('finds %s', (_title, schedule, iso, expected) => {
    expect(new Date(nextHandoffAfter(config, schedule, at(iso))!).toISOString()).toBe(expected);
  });

  it('finds no change in a one-person rotation', () => {
    expect(nextHandoffAfter(config, 'solo', at('2026-01-05T10:00:00+09:00'))).toBeUndefined();
  });

  it('answers undefined for an unknown schedule', () => {
    expect(nextHandoffAfter(config, 'nope', at('2026-01-05T10:00:00+09:00'))).toBeUndefined();
  });
});

describe('OncallConfig', () => {
  const person = { name: 'Alice', slack_user_id: 'U01ALICE' };
  const base = {
    people: { alice: person },
    schedules: { team: { timezone: 'Asia/Seoul', layers: [daily('2026-01-05', ['alice'])] } },
    roles: {
      primary: { schedule: 'team' },
      secondary: { schedule: 'team', offset: 1 },
      manager: { person: 'alice' },
    },
  };
  const withPerson = (p: object) => ({ ...base, people: { alice: { ...person, ...p } } });
  const withLayer = (l: object) => ({
    ...base,
    schedules: { team: { timezone: 'Asia/Seoul', layers: [{ ...daily('2026-01-05', ['alice']), ...l }] } },
  });

  it('accepts a minimal config and applies defaults', () => {
    const parsed = OncallConfig.parse(base);
    expect(parsed.webhooks).toEqual({});
    expect(parsed.roles.primary).toEqual({ schedule: 'team', offset: 0 });
    expect(parsed.schedules.team!.overrides).toEqual([]);
  });

  it('defaults restriction weekdays to every day', () => {
    const parsed = OncallConfig.parse(withLayer({ restrict: [{ from: '09:00', to: '18:00' }] }));
    expect(parsed.schedules.team!.layers[0]!.restrict![0]!.weekdays).toEqual([
      'mon',
      'tue',
      'wed',
      'thu',
      'fri',
      'sat',
      'sun',
    ]);
  });

  it.each([
    [
      withPerson({ phone: '+0101234567' }),
      'people.alice.phone',
      'must be an E.164 phone number such as "+821012345678"',
    ],
    [
      withPerson({ phone: '010-1234-5678' }),
      'people.alice.phone',
      'must be an E.164 phone number such as "+821012345678"',
    ],
    [
      withPerson({ slack_user_id: 'alice' }),
      'people.alice.slack_user_id',
      'must be a Slack user id such as "U01ABCDEF"',
    ],
    [withPerson({ email: 'alice' }), 'people.alice.email', 'must be an email address'],
    [
      withPerson({ timezone: 'KST' }),
      'people.alice.timezone',
      'unknown time zone "KST" (use an IANA name such as "Europe/Berlin")',
    ],
    [
      withPerson({ timezone: '+09:00' }),
      'people.alice.timezone',
      'unknown time zone "+09:00" (use an IANA name such as "Europe/Berlin")',
    ],
    [
      { ...base, people: { alice: { name: 'Alice' } } },
      'people.alice',
      'needs at least one contact method (slack_user_id, phone or email)',
    ],
    [{ ...base, people: {} }, 'people', 'must list at least one person'],
    [
      withLayer({ handoff: { time: '9:00' } }),
      'schedules.team.layers.0.handoff.time',
      'must be a time "HH:MM" from 00:00 to 23:59',
    ],
    [
      withLayer({ handoff: { time: '24:00' } }),
      'schedules.team.layers.0.handoff.time',
      'must be a time "HH:MM" from 00:00 to 23:59',
    ],
    [withLayer({ start: '2026-02-30' }), 'schedules.team.layers.0.start', 'must be a date "YYYY-MM-DD"'],
    [
      withLayer({ participants: [] }),
      'schedules.team.layers.0.participants',
      'Too small: expected array to have >=1 items',
    ],
    [
      withLayer({ restrict: [{ from: '09:00', to: '09:00' }] }),
      'schedules.team.layers.0.restrict.0.to',
      'must differ from from (use from "00:00" to "24:00" for a whole day)',
    ],
    [
      withLayer({ restrict: [{ from: '00:00', to: '24:00', weekdays: ['someday'] }] }),
      'schedules.team.layers.0.restrict.0.weekdays.0',
      'must be a weekday such as "monday" or "mon"',
    ],
    [
      withLayer({ rotation: 'weekly' }),
      'schedules.team.layers.0.handoff.weekday',
      'is required for a weekly rotation',
    ],
    [
      withLayer({ handoff: { time: '09:00', weekday: 'monday' } }),
      'schedules.team.layers.0.handoff.weekday',
      'is only allowed for a weekly rotation',
    ],
    [
      withLayer({ rotation: 'weekly', handoff: { time: '09:00', weekday: 'mon' }, start: '2026-01-06' }),
      'schedules.team.layers.0.start',
      '2026-01-06 is a tuesday, not the hand-off weekday monday',
    ],
    [
      { ...base, roles: { ...base.roles, primary: { schedule: 'team', person: 'alice' } } },
      'roles.primary',
      'must be exactly one of { schedule, offset? }, { person } or { people }',
    ],
    [
      { ...base, roles: { ...base.roles, secondary: { schedule: 'team', offset: -1 } } },
      'roles.secondary.offset',
      'Too small: expected number to be >=0',
    ],
    [
      { ...base, webhooks: { hook: { url_env: 'lower' } } },
      'webhooks.hook.url_env',
      'must be an environment variable name such as "OPS_WEBHOOK_URL"',
    ],
    [
      { ...base, webhooks: { hook: { url_env: 'HOOK_URL', url: 'https://example.com' } } },
      'webhooks.hook',
      'Unrecognized key: "url"',
    ],
  ])('rejects %j at %s', (input, path, message) => {
    const result = OncallConfig.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(path);
    expect(issue.message).toBe(message);
  });

  it('reports every cross-reference problem with its path', () => {
    const result = OncallConfig.safeParse({
      people: { alice: person },
      schedules: {
        team: {
          timezone: 'Asia/Seoul',
          layers: [daily('2026-01-05', ['alice', 'zed'])],
          overrides: [{ person: 'yan', from: '2026-01-05T09:00:00+09:00', to: '2026-01-06T09:00:00+09:00' }],
        },
      },
      roles: {
        primary: { schedule: 'nope' },
        manager: { person: 'xi' },
        team_lead: { people: ['alice', 'wu'] },
      },
    });
    expect(result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'schedules.team.layers.0.participants.1: unknown person "zed"',
      'schedules.team.overrides.0.person: unknown person "yan"',
      'roles.primary.schedule: unknown schedule "nope"',
      'roles.manager.person: unknown person "xi"',
      'roles.team_lead.people.1: unknown person "wu"',
      'roles: missing required role "secondary"',
    ]);
  });

  it.each([
    [
      { from: '2026-01-06T09:00:00+09:00', to: '2026-01-05T09:00:00+09:00' },
      'schedules.team.overrides.0.to',
      'must be after from',
    ],
    [
      { from: '2026-01-05T09:00:00+09:00', to: '2026-01-05T09:00:00+09:00' },
      'schedules.team.overrides.0.to',
      'must be after from',
    ],
    [
      { from: '2026-01-05T09:00:00', to: '2026-01-06T09:00:00+09:00' },
      'schedules.team.overrides.0.from',
      'must be a date-time with an offset, such as "2026-11-25T09:00:00+09:00"',
    ],
    [
      { from: '2026-13-05T09:00:00Z', to: '2026-01-06T09:00:00+09:00' },
      'schedules.team.overrides.0.from',
      'is not a valid date-time',
    ],
  ])('rejects the override %j at %s', (window, path, message) => {
    const input = {
      ...base,
      schedules: { team: { ...base.schedules.team, overrides: [{ person: 'alice', ...window }] } },
    };
    const issue = OncallConfig.safeParse(input).error!.issues[0]!;
    expect(`${issue.path.join('.')}: ${issue.message}`).toBe(`${path}: ${message}`);
  });

  it('rejects duplicate layer names', () => {
    const input = {
      ...base,
      schedules: {
        team: { timezone: 'UTC', layers: [daily('2026-01-05', ['alice']), daily('2026-01-05', ['alice'])] },
      },
    };
    const issue = OncallConfig.safeParse(input).error!.issues[0]!;
    expect(`${issue.path.join('.')}: ${issue.message}`).toBe(
      'schedules.team.layers.1.name: duplicate layer name "daily" (first at layers.0)',
    );
  });
});

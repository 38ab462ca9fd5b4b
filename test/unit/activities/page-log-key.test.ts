import { pageLogKey } from '../../../src/activities/page-log';
import type { PageRequest } from '../../../src/activities/paging.activities';

const OPENED = '2026-12-05T08:00:00.000Z';

function req(pageKey: string, overrides: Partial<PageRequest> = {}): PageRequest {
  return {
    pageKey,
    incidentId: 'incident:etl:abc',
    level: 2,
    levelName: 'primary',
    target: { role: 'primary' },
    channel: 'sms',
    atMs: Date.parse(OPENED),
    severity: 'P2',
    title: 'DAG etl failed',
    service: 'etl',
    links: {},
    ...overrides,
  };
}

describe('pageLogKey', () => {
  it.each([
    {
      why: 'an escalation page: the opening time and the level with its repeat round',
      pageKey: `incident:etl:abc/${OPENED}/L2.0/role:primary/sms`,
      overrides: {},
      window: `${OPENED}/L2.0`,
    },
    {
      why: 'the same level in the next repeat round: a new window',
      pageKey: `incident:etl:abc/${OPENED}/L2.1/role:primary/sms`,
      overrides: {},
      window: `${OPENED}/L2.1`,
    },
    {
      why: 'a person target on the phone',
      pageKey: `incident:etl:abc/${OPENED}/L3.0/person:alice/phone`,
      overrides: { level: 3, target: { person: 'alice' }, channel: 'phone' as const },
      window: `${OPENED}/L3.0`,
    },
    {
      why: 'an incident id with slashes',
      pageKey: `incident:a/b/${OPENED}/L2.0/role:primary/sms`,
      overrides: { incidentId: 'incident:a/b' },
      window: `${OPENED}/L2.0`,
    },
    {
      why: 'an approval page, which names its approver its own way: the whole key',
      pageKey: `incident:etl:abc/${OPENED}/approval/restart/primary/pagerduty`,
      overrides: { level: 0, channel: 'pagerduty' as const },
      window: `incident:etl:abc/${OPENED}/approval/restart/primary/pagerduty`,
    },
    {
      why: 'a key without the opening time: what lies between incident and target',
      pageKey: 'incident:etl:abc/L2/role:primary/sms',
      overrides: {},
      window: 'L2',
    },
    {
      why: 'a key with nothing between incident and target: the whole key',
      pageKey: 'incident:etl:abc/role:primary/sms',
      overrides: {},
      window: 'incident:etl:abc/role:primary/sms',
    },
  ])('$why', ({ pageKey, overrides, window }) => {
    const r = req(pageKey, overrides);
    expect(pageLogKey(r)).toEqual({
      incidentId: r.incidentId,
      level: r.level,
      target: Object.entries(r.target)[0]!.join(':'),
      channel: r.channel,
      attemptWindow: window,
      recipient: '',
      pageKey,
    });
  });

  it('keys a recipient inside the page by its recipient key, in the same window', () => {
    const r = req(`incident:etl:abc/${OPENED}/L2.0/role:primary/sms`);
    expect(pageLogKey(r, 'sms:alice')).toEqual({ ...pageLogKey(r), recipient: 'sms:alice' });
  });

  it('gives a retry of the same request the same key', () => {
    const pageKey = `incident:etl:abc/${OPENED}/L2.0/role:primary/sms`;
    expect(pageLogKey(req(pageKey))).toEqual(pageLogKey(structuredClone(req(pageKey))));
  });
});

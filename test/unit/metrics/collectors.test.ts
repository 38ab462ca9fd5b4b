import { Registry } from 'prom-client';
import { OncallConfig } from '../../../src/domain/oncall';
import {
  type ApiCollectorDeps,
  createApiCollectors,
  type OpenIncident,
} from '../../../src/metrics/collectors';
import { parseMetrics, type Sample, samplesOf, valueOf } from '../../helpers/metrics-text';

const oncall = OncallConfig.parse({
  people: {
    ann: { name: 'Ann', email: 'ann@example.com' },
    ben: { name: 'Ben', email: 'ben@example.com' },
    eve: { name: 'Eve', email: 'eve@example.com' },
  },
  schedules: {
    ops: {
      timezone: 'UTC',
      layers: [
        {
          name: 'weekly',
          rotation: 'weekly',
          handoff: { time: '09:00', weekday: 'monday' },
          start: '2026-01-05',
          participants: ['ann', 'ben'],
        },
      ],
    },
  },
  roles: {
    primary: { schedule: 'ops' },
    secondary: { schedule: 'ops', offset: 1 },
    manager: { person: 'eve' },
  },
});

const BEFORE_HANDOFF = Date.parse('2026-01-12T08:59:00Z');
const AFTER_HANDOFF = Date.parse('2026-01-12T09:00:00Z');

function setup(overrides: Partial<ApiCollectorDeps> = {}) {
  let clock = BEFORE_HANDOFF;
  let open: OpenIncident[] = [];
  let calls = 0;
  let failing = false;
  const registry = new Registry();
  createApiCollectors(registry, {
    listOpenIncidents: () => {
      calls += 1;
      return failing ? Promise.reject(new Error('Temporal is down')) : Promise.resolve(open);
    },
    oncall: () => oncall,
    now: () => clock,
    ...overrides,
  });
  return {
    scrape: async (): Promise<Sample[]> => parseMetrics(await registry.metrics()),
    setOpen: (incidents: OpenIncident[]) => (open = incidents),
    advance: (ms: number) => (clock += ms),
    at: (ms: number) => (clock = ms),
    fail: (value: boolean) => (failing = value),
    calls: () => calls,
  };
}

const oncallRows = (samples: Sample[]) =>
  samplesOf(samples, 'incidentflow_oncall_info').map((s) => [
    s.labels.schedule,
    s.labels.role,
    s.labels.person,
    s.value,
  ]);

describe('incidentflow_oncall_info', () => {
  it('names who each role resolves to now, with the schedule behind it', async () => {
    const c = setup();
    expect(oncallRows(await c.scrape())).toEqual([
      ['ops', 'primary', 'ann', 1],
      ['ops', 'secondary', 'ben', 1],
      ['', 'manager', 'eve', 1],
    ]);
  });

  it('follows the hand-off: the next person is primary from the hand-off instant', async () => {
    const c = setup();
    await c.scrape();
    c.at(AFTER_HANDOFF);
    expect(oncallRows(await c.scrape())).toEqual([
      ['ops', 'primary', 'ben', 1],
      ['ops', 'secondary', 'ann', 1],
      ['', 'manager', 'eve', 1],
    ]);
  });

  it('leaves the gauge empty and counts an error when the on-call config cannot be read', async () => {
    const c = setup({
      oncall: () => {
        throw new Error('config gone');
      },
    });
    const samples = await c.scrape();
    expect(oncallRows(samples)).toEqual([]);
    expect(valueOf(samples, 'incidentflow_metrics_collect_errors_total', { collector: 'oncall' })).toBe(1);
  });
});

describe('incidentflow_open_incidents', () => {
  const openRows = (samples: Sample[]) =>
    samplesOf(samples, 'incidentflow_open_incidents').map((s) => [
      s.labels.severity,
      s.labels.service,
      s.value,
    ]);

  it('counts open incidents by severity and service', async () => {
    const c = setup();
    c.setOpen([
      { severity: 'P1', service: 'customer_etl' },
      { severity: 'P2', service: 'customer_etl' },
      { severity: 'P1', service: 'customer_etl' },
      { severity: 'P3', service: 'orders' },
    ]);
    expect(openRows(await c.scrape())).toEqual([
      ['P1', 'customer_etl', 2],
      ['P2', 'customer_etl', 1],
      ['P3', 'orders', 1],
    ]);
  });

  it('exports no series while nothing is open', async () => {
    const c = setup();
    expect(openRows(await c.scrape())).toEqual([]);
  });

  it('reuses one listing for scrapes within the cache period', async () => {
    const c = setup({ cacheTtlMs: 15_000 });
    c.setOpen([{ severity: 'P1', service: 'a' }]);
    await c.scrape();
    c.setOpen([]);
    c.advance(14_999);
    expect(openRows(await c.scrape())).toEqual([['P1', 'a', 1]]);
    expect(c.calls()).toBe(1);
  });

  it('lists again once the cache period has passed', async () => {
    const c = setup({ cacheTtlMs: 15_000 });
    c.setOpen([{ severity: 'P1', service: 'a' }]);
    await c.scrape();
    c.setOpen([{ severity: 'P4', service: 'b' }]);
    c.advance(15_000);
    expect(openRows(await c.scrape())).toEqual([['P4', 'b', 1]]);
    expect(c.calls()).toBe(2);
  });

  it('shares one listing between concurrent scrapes', async () => {
    const c = setup();
    await Promise.all([c.scrape(), c.scrape(), c.scrape()]);
    expect(c.calls()).toBe(1);
  });

  it('keeps the scrape working when the listing fails, with an empty gauge and a counted error', async () => {
    const c = setup();
    c.fail(true);
    const samples = await c.scrape();
    expect(openRows(samples)).toEqual([]);
    expect(
      valueOf(samples, 'incidentflow_metrics_collect_errors_total', { collector: 'open_incidents' }),
    ).toBe(1);
    expect(oncallRows(samples)).toHaveLength(3);
  });

  it('recovers on the first listing after the failed one expires', async () => {
    const c = setup({ cacheTtlMs: 1_000 });
    c.fail(true);
    await c.scrape();
    c.fail(false);
    c.setOpen([{ severity: 'P2', service: 'a' }]);
    c.advance(1_000);
    expect(openRows(await c.scrape())).toEqual([['P2', 'a', 1]]);
  });

  it('sums services beyond the limit, least affected first, as other', async () => {
    const c = setup({ maxServices: 1 });
    c.setOpen([
      { severity: 'P1', service: 'busy' },
      { severity: 'P1', service: 'busy' },
      { severity: 'P1', service: 'quiet' },
      { severity: 'P1', service: 'calm' },
    ]);
    expect(openRows(await c.scrape())).toEqual([
      ['P1', 'busy', 2],
      ['P1', 'other', 2],
    ]);
  });

  it('reports a severity outside P1-P4 as other and a missing one as unknown', async () => {
    const c = setup();
    c.setOpen([
      { severity: 'sev0', service: 'a' },
      { severity: 'unknown', service: 'a' },
    ]);
    expect(openRows(await c.scrape())).toEqual([
      ['other', 'a', 1],
      ['unknown', 'a', 1],
    ]);
  });
});

import { HttpFailure } from '../../../src/adapters/http-client';
import {
  createPagerDutyClient,
  PAGERDUTY_MAX_SUMMARY,
  pagerDutyDedupKey,
  type PagerDutyTrigger,
} from '../../../src/adapters/pagerduty';
import { ErrorType } from '../../../src/domain/errors';
import { type PagerDutyDouble, startPagerDutyDouble } from '../../doubles/pagerduty-double';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';

let pd: PagerDutyDouble;
beforeAll(async () => {
  pd = await startPagerDutyDouble({ routingKeys: [ROUTING_KEY] });
});
afterAll(() => pd.close());
beforeEach(() => pd.reset());

const client = (routingKey = ROUTING_KEY) =>
  createPagerDutyClient({ routingKey, eventsUrl: pd.eventsUrl, client: 'incidentflow' });

const trigger: PagerDutyTrigger = {
  dedupKey: 'incident:etl:abc',
  summary: '[P1] #42 DAG etl failed (etl)',
  source: 'etl',
  severity: 'critical',
  timestamp: '2024-05-01T10:00:00.000Z',
  component: 'etl',
  class: 'incident',
  customDetails: { escalationLevel: 2 },
  links: [{ href: 'http://incidentflow.local/incidents/42', text: 'Incident' }],
  clientUrl: 'http://incidentflow.local/incidents/42',
};

async function failureOf(promise: Promise<unknown>): Promise<HttpFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpFailure) return err;
    throw err;
  }
  throw new Error('expected an HttpFailure');
}

describe('createPagerDutyClient', () => {
  it('enqueues a trigger event with the documented body and no auth header', async () => {
    const accepted = await client().trigger(trigger);

    const req = pd.requests[0]!;
    expect(req.status).toBe(202);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'incident:etl:abc',
      payload: {
        summary: '[P1] #42 DAG etl failed (etl)',
        source: 'etl',
        severity: 'critical',
        timestamp: '2024-05-01T10:00:00.000Z',
        component: 'etl',
        class: 'incident',
        custom_details: { escalationLevel: 2 },
      },
      client: 'incidentflow',
      client_url: 'http://incidentflow.local/incidents/42',
      links: [{ href: 'http://incidentflow.local/incidents/42', text: 'Incident' }],
    });
    expect(accepted).toEqual({ dedupKey: 'incident:etl:abc' });
  });

  it('joins repeated triggers with the same dedup key into one alert', async () => {
    await client().trigger(trigger);
    await client().trigger({ ...trigger, summary: 'again' });

    expect(pd.alerts).toHaveLength(1);
    expect(pd.alert('incident:etl:abc')).toMatchObject({ status: 'triggered', triggers: 2 });
  });

  it('acknowledges and resolves by dedup key without a payload', async () => {
    await client().trigger(trigger);
    await client().acknowledge('incident:etl:abc');
    expect(pd.alert('incident:etl:abc')!.status).toBe('acknowledged');
    const resolved = await client().resolve('incident:etl:abc');

    expect(resolved).toEqual({ dedupKey: 'incident:etl:abc' });
    expect(pd.requests[2]!.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'incident:etl:abc',
    });
    expect(pd.alert('incident:etl:abc')!.status).toBe('resolved');
  });

  it('truncates the summary to 1024 characters', async () => {
    await client().trigger({ ...trigger, summary: 's'.repeat(5000) });
    expect(pd.events[0]!.payload!.summary).toHaveLength(PAGERDUTY_MAX_SUMMARY);
  });

  it('shortens a dedup key over 255 characters to the same stable key every time', async () => {
    const long = `incident:${'x'.repeat(400)}`;
    const first = await client().trigger({ ...trigger, dedupKey: long });
    const second = await client().acknowledge(long);

    expect(first.dedupKey).toHaveLength(255);
    expect(second.dedupKey).toBe(first.dedupKey);
    expect(pagerDutyDedupKey(long)).toBe(first.dedupKey);
    expect(pd.alert(first.dedupKey)!.status).toBe('acknowledged');
  });

  it('reports an invalid event as a final failure without the routing key', async () => {
    const failure = await failureOf(client().trigger({ ...trigger, source: '' }));

    expect(failure.class).toEqual({ kind: 'final', type: ErrorType.Rejected, reason: 'client_error' });
    expect(failure.status).toBe(400);
    expect(failure.code).toBe('invalid event');
    expect(failure.message).toBe(
      "pagerduty enqueue trigger: HTTP 400: Event object is invalid; 'payload.source' is missing or blank",
    );
    expect(failure.message).not.toContain(ROUTING_KEY);
  });

  it('reports an unknown routing key as final and redacts it', async () => {
    const other = 'OTHERKEY0123456789abcdefABCDEF01';
    const failure = await failureOf(client(other).trigger(trigger));
    expect(failure.class.kind).toBe('final');
    expect(failure.message).not.toContain(other);
  });

  it('classifies 429 without Retry-After as rate limited for 30 s', async () => {
    pd.failNext({ status: 429 });
    const failure = await failureOf(client().trigger(trigger));
    expect(failure.class).toEqual({ kind: 'rate_limited', retryAfterMs: 30_000 });
    expect(pd.events).toHaveLength(0);
  });

  it('classifies 502 as retryable', async () => {
    pd.failNext({ status: 502 });
    const failure = await failureOf(client().resolve('incident:etl:abc'));
    expect(failure.class).toEqual({ kind: 'retryable', reason: 'server_error' });
  });

  it('is answered 400 by the double when payload.summary is missing', async () => {
    const res = await fetch(pd.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        payload: { source: 'etl', severity: 'info' },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: ["'payload.summary' is missing or blank"],
    });
  });

  it('generates a dedup key in the double when a trigger omits it', async () => {
    const res = await fetch(pd.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        payload: { summary: 's', source: 'etl', severity: 'info' },
      }),
    });
    const body = (await res.json()) as { dedup_key: string };
    expect(res.status).toBe(202);
    expect(body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
  });
});

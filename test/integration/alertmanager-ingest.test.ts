import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { IncidentView } from '../../src/domain/incident-view';
import { incidentQuery } from '../../src/workflows/definitions';
import { alertmanagerPayload, uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let testApp: ReturnType<typeof buildTestApp>;
const taskQueue = uniqueTaskQueue('ingest');
const address = process.env.TEMPORAL_TEST_ADDRESS!;

beforeAll(async () => {
  env = await devServerEnv();
  worker = await startTestWorker(env, { taskQueue });
  testApp = buildTestApp({ address, taskQueue, token: 'secret-token' });
});

afterAll(async () => {
  await testApp?.close();
  await worker?.stop();
  await env?.teardown();
});

const auth = { authorization: 'Bearer secret-token' };

function post(body: unknown, headers: Record<string, string> = auth) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/alerts/alertmanager',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function view(workflowId: string): Promise<IncidentView> {
  return env.client.workflow.getHandle(workflowId).query(incidentQuery);
}

async function countWorkflows(): Promise<number> {
  const { count } = await env.client.workflow.count(`TaskQueue = '${taskQueue}'`);
  return count;
}

describe('POST /api/v1/alerts/alertmanager on a real Temporal dev server', () => {
  it('opens one incident for a payload posted twice and deduplicates its alerts by fingerprint', async () => {
    const key = uniqueKey('twice');
    const payload = alertmanagerPayload([{ labels: { dedup_key: key, service: 'customer_etl' } }]);
    const first = await post(payload);
    expect(first.statusCode).toBe(202);
    const body = first.json<{
      incidents: Array<{ incidentId: string; runId: string }>;
      duplicates: number;
    }>();
    expect(body.incidents).toHaveLength(1);
    expect(body.incidents[0]!.incidentId).toBe(`incident:customer_etl:${key}`);

    const second = await post(payload);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ duplicates: 1, incidents: [] });

    // A second ingress (no shared cache, like an HA pair) re-delivers: the workflow drops it by fingerprint.
    const other = buildTestApp({ address, taskQueue, token: 'secret-token' });
    try {
      const third = await other.app.inject({
        method: 'POST',
        url: '/api/v1/alerts/alertmanager',
        headers: { 'content-type': 'application/json', ...auth },
        payload: JSON.stringify(payload),
      });
      expect(third.statusCode).toBe(202);
      expect(third.json().incidents[0].runId).toBe(body.incidents[0]!.runId);
    } finally {
      await other.close();
    }

    const incident = await eventually(async () => {
      const v = await view(body.incidents[0]!.incidentId);
      return v.counters.deliveries === 2 ? v : undefined;
    });
    expect(incident.alerts).toHaveLength(1);
    expect(incident.counters).toMatchObject({ deliveries: 2, duplicates: 1 });
    expect(incident.timeline.filter((e) => e.kind === 'alert_firing')).toHaveLength(1);
    const { count } = await env.client.workflow.count(
      `TaskQueue = '${taskQueue}' AND IncidentKey = '${key}'`,
    );
    expect(count).toBe(1);
  });

  it('handles a payload mixing firing and resolved alerts per alert', async () => {
    const key = uniqueKey('mixed');
    const labels = { dedup_key: key, service: 'orders_etl' };
    const payload = alertmanagerPayload(
      [
        { fingerprint: '000000000000aaaa', status: 'firing', labels: { task_id: 'extract' } },
        {
          fingerprint: '000000000000bbbb',
          status: 'firing',
          labels: { task_id: 'load', severity: 'critical' },
        },
      ],
      { labels },
    );
    const res = await post(payload);
    expect(res.statusCode).toBe(202);
    const id = `incident:orders_etl:${key}`;
    // Next notification of the same group: extract resolved, load still firing (top-level status "firing").
    const next = alertmanagerPayload(
      [
        { fingerprint: '000000000000aaaa', status: 'resolved', labels: { task_id: 'extract' } },
        {
          fingerprint: '000000000000bbbb',
          status: 'firing',
          labels: { task_id: 'load', severity: 'critical' },
        },
      ],
      { labels, groupKey: payload.groupKey },
    );
    expect(next.status).toBe('firing');
    expect((await post(next)).statusCode).toBe(202);

    const incident = await eventually(async () => {
      const v = await view(id);
      return v.alerts.some((a) => a.status === 'resolved') ? v : undefined;
    });
    const byFp = Object.fromEntries(incident.alerts.map((a) => [a.fingerprint, a.status]));
    expect(byFp).toEqual({ '000000000000aaaa': 'resolved', '000000000000bbbb': 'firing' });
    expect(incident.severity).toBe('P1');
    expect(incident.status).toBe('triggered');
  });

  it('resolves the incident after the grace period once every alert is resolved', async () => {
    const key = uniqueKey('grace');
    const labels = { dedup_key: key, service: 'grace_etl' };
    const firing = alertmanagerPayload(
      [{ fingerprint: '0000000000000001' }, { fingerprint: '0000000000000002' }],
      {
        labels,
      },
    );
    const res = await post(firing);
    const runId = res.json().incidents[0].runId as string;
    const id = `incident:grace_etl:${key}`;
    const oneResolved = alertmanagerPayload(
      [{ fingerprint: '0000000000000001', status: 'resolved' }, { fingerprint: '0000000000000002' }],
      { labels, groupKey: firing.groupKey },
    );
    await post(oneResolved);
    // Still open well past the grace period while one alert fires.
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await view(id)).status).toBe('triggered');

    // Alertmanager's last notification holds only the alert that resolved last.
    const lastResolved = alertmanagerPayload([{ fingerprint: '0000000000000002', status: 'resolved' }], {
      labels,
      groupKey: firing.groupKey,
    });
    const resolvedAt = Date.now();
    expect((await post(lastResolved)).statusCode).toBe(202);
    const outcome = await env.client.workflow.getHandle(id, runId).result();
    expect(outcome).toMatchObject({ status: 'resolved', resolution: 'auto' });
    expect(Date.parse(outcome.resolvedAt) - resolvedAt).toBeGreaterThanOrEqual(1_500);

    const description = await env.client.workflow.getHandle(id, runId).describe();
    expect(description.typedSearchAttributes.get({ name: 'IncidentStatus', type: 'KEYWORD' } as never)).toBe(
      'resolved',
    );
  });

  it('does not open an incident for resolved-only alerts it has never seen', async () => {
    const key = uniqueKey('orphan');
    const res = await post(
      alertmanagerPayload([{ status: 'resolved' }], { labels: { dedup_key: key, service: 'nobody' } }),
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 0, incidents: [{ outcome: 'no_open_incident' }] });
  });

  describe('bad input answers 4xx naming the problem and starts nothing', () => {
    const cases: Array<[string, () => Promise<{ statusCode: number; json: () => unknown }>, number, RegExp]> =
      [
        ['invalid JSON', () => post('{"version": "4", '), 400, /not valid JSON/],
        [
          'wrong version',
          () => post({ ...alertmanagerPayload([{ labels: { dedup_key: uniqueKey() } }]), version: '3' }),
          400,
          /version: must be "4"/,
        ],
        [
          'missing fingerprint',
          () => {
            const p = alertmanagerPayload([{ labels: { dedup_key: uniqueKey() } }]);
            delete (p.alerts[0] as { fingerprint?: string }).fingerprint;
            return post(p);
          },
          400,
          /alerts\.0\.fingerprint/,
        ],
        [
          'missing alerts',
          () => {
            const p: Partial<ReturnType<typeof alertmanagerPayload>> = alertmanagerPayload([{}]);
            delete p.alerts;
            return post(p);
          },
          400,
          /alerts: /,
        ],
        [
          'missing token',
          () => post(alertmanagerPayload([{ labels: { dedup_key: uniqueKey() } }]), {}),
          401,
          /missing Authorization header/,
        ],
        [
          'wrong token',
          () =>
            post(alertmanagerPayload([{ labels: { dedup_key: uniqueKey() } }]), {
              authorization: 'Bearer nope',
            }),
          401,
          /invalid bearer token/,
        ],
      ];

    it.each(cases)('%s', async (_name, send, status, message) => {
      const before = await countWorkflows();
      const res = await send();
      expect(res.statusCode).toBe(status);
      expect((res.json() as { message: string }).message).toMatch(message);
      // Positive control: a valid alert becomes visible, so the count below could have seen a bad one too.
      const key = uniqueKey('control');
      await post(alertmanagerPayload([{ labels: { dedup_key: key, service: 'control' } }]));
      await eventually(async () => ((await countWorkflows()) === before + 1 ? true : undefined));
    });

    it('answers 413 for a body over the limit', async () => {
      const small = buildTestApp({ address, taskQueue, bodyLimit: 1_000 });
      try {
        const res = await small.app.inject({
          method: 'POST',
          url: '/api/v1/alerts/alertmanager',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(alertmanagerPayload([{ annotations: { summary: 'x'.repeat(2_000) } }])),
        });
        expect(res.statusCode).toBe(413);
        expect(res.json()).toMatchObject({ error: 'payload_too_large' });
      } finally {
        await small.close();
      }
    });
  });

  it('answers 503 (not a 500 with a stack trace) when Temporal is unreachable', async () => {
    const down = buildTestApp({ address: '127.0.0.1:1', taskQueue, callTimeoutMs: 1_500 });
    try {
      const res = await down.app.inject({
        method: 'POST',
        url: '/api/v1/alerts/alertmanager',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(alertmanagerPayload([{ labels: { dedup_key: uniqueKey() } }])),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        error: 'temporal_unavailable',
        message: 'Temporal is unreachable; retry later',
      });
      expect(res.body).not.toMatch(/at .*\.ts:\d+/);
      const ready = await down.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
    } finally {
      await down.close();
    }
  });

  it('lists open incidents and serves one incident view', async () => {
    const key = uniqueKey('list');
    await post(alertmanagerPayload([{ labels: { dedup_key: key, service: 'listed' } }]));
    const id = `incident:listed:${key}`;
    const list = await eventually(async () => {
      const res = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/incidents?status=open',
        headers: auth,
      });
      const items = res.json<{ incidents: Array<{ incidentId: string }> }>().incidents;
      return items.some((i) => i.incidentId === id) ? items : undefined;
    });
    expect(list.find((i) => i.incidentId === id)).toMatchObject({ status: 'triggered', service: 'listed' });
    const one = await testApp.app.inject({
      method: 'GET',
      url: `/api/v1/incidents/${encodeURIComponent(id)}`,
      headers: auth,
    });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ incidentId: id, service: 'listed', dedupKey: key });
    const missing = await testApp.app.inject({ method: 'GET', url: '/api/v1/incidents/nope', headers: auth });
    expect(missing.statusCode).toBe(404);
  });
});

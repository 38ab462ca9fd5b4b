import { buildTestApp } from '../helpers/app';
import { openTestStore, type TestStore } from '../helpers/store';
import { uniqueTaskQueue } from '../helpers/temporal';

let store: TestStore;
let testApp: ReturnType<typeof buildTestApp>;

beforeAll(async () => {
  store = await openTestStore('postgres');
  await store.store.migrate();
  testApp = buildTestApp({
    address: process.env.TEMPORAL_TEST_ADDRESS!,
    taskQueue: uniqueTaskQueue('rb'),
    store: store.store,
  });
});

afterAll(async () => {
  await testApp?.close();
  await store?.cleanup();
});

describe('GET /api/v1/runbooks', () => {
  it('reports success rates and flags a runbook failing 4 of its last 5 runs', async () => {
    const outcomes = ['success', 'failure', 'failure', 'failure', 'failure'] as const;
    for (const [i, outcome] of outcomes.entries()) {
      await store.store.recordRunbookRun({
        incidentKey: `incident:x:${i}@2026-11-2${i}T00:00:00.000Z`,
        runbook: 'connection_pool_exhaustion',
        incidentType: 'task_temporary_failure',
        outcome,
        finishedAt: `2026-11-2${i}T01:00:00.000Z`,
      });
    }
    await store.store.recordRunbookRun({
      incidentKey: 'incident:y:1@2026-11-20T00:00:00.000Z',
      runbook: 'task_temporary_failure',
      incidentType: 'task_temporary_failure',
      outcome: 'success',
      finishedAt: '2026-11-20T01:00:00.000Z',
    });
    const res = await testApp.app.inject({ method: 'GET', url: '/api/v1/runbooks' });
    expect(res.statusCode).toBe(200);
    const runbooks = res.json<{ runbooks: Array<Record<string, unknown>> }>().runbooks;
    expect(runbooks.map((r) => r.name)).toEqual([
      'connection_pool_exhaustion',
      'dag_deployment_regression',
      'data_quality_violation',
      'sla_miss',
      'task_temporary_failure',
    ]);
    expect(runbooks[0]).toMatchObject({
      runs: 5,
      successes: 1,
      failures: 4,
      successRate: 0.2,
      flagged: true,
      flagReason: 'failed 4 of its last 5 runs',
    });
    expect(runbooks[4]).toMatchObject({ runs: 1, successRate: 1, flagged: false });
    expect(runbooks[1]).toMatchObject({ runs: 0, successRate: null, flagged: false });
  });

  it('rejects a bad window', async () => {
    const res = await testApp.app.inject({ method: 'GET', url: '/api/v1/runbooks?window=0' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('window');
  });
});

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentQuery } from '../../src/workflows/definitions';
import { alertmanagerPayload, uniqueKey } from '../helpers/alerts';
import { buildTestApp } from '../helpers/app';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('can');
const address = process.env.TEMPORAL_TEST_ADDRESS!;

beforeAll(async () => {
  env = await devServerEnv();
  worker = await startTestWorker(env, { taskQueue });
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

describe('an incident under an alert storm', () => {
  it('continues as new before its signal budget runs out and carries alerts and dedup memory', async () => {
    const app = buildTestApp({
      address,
      taskQueue,
      settings: { maxSignalsPerRun: 3, autoResolveGraceMs: 500 },
    });
    const key = uniqueKey('storm');
    const labels = { dedup_key: key, service: 'storm' };
    const id = `incident:storm:${key}`;
    const payloads = Array.from({ length: 8 }, (_, i) =>
      alertmanagerPayload([{ fingerprint: `storm${String(i).padStart(11, '0')}` }], {
        labels,
        groupKey: `{}:{dedup_key="${key}"}`,
      }),
    );
    try {
      let firstRunId: string | undefined;
      for (const p of payloads) {
        const res = await app.app.inject({ method: 'POST', url: '/api/v1/alerts/alertmanager', payload: p });
        expect(res.statusCode).toBe(202);
        firstRunId ??= res.json().incidents[0].runId as string;
      }
      const view = await eventually(async () => {
        const v = await env.client.workflow.getHandle(id).query(incidentQuery);
        return v.alerts.length === 8 ? v : undefined;
      });
      expect(view.timeline.filter((e) => e.kind === 'opened')).toHaveLength(1);
      // The run drains side effects in flight (escalation pages) before it continues as new.
      await eventually(async () => {
        const latest = await env.client.workflow.getHandle(id).describe();
        return latest.runId !== firstRunId ? latest : undefined;
      });
      const { count: runs } = await env.client.workflow.count(`WorkflowId = '${id}'`);
      expect(runs).toBeGreaterThanOrEqual(2);

      // A second ingress without the first one's cache re-delivers the first alert: the carried memory drops it.
      const other = buildTestApp({ address, taskQueue, settings: { maxSignalsPerRun: 3 } });
      try {
        await other.app.inject({ method: 'POST', url: '/api/v1/alerts/alertmanager', payload: payloads[0] });
      } finally {
        await other.close();
      }
      await eventually(async () => {
        const v = await env.client.workflow.getHandle(id).query(incidentQuery);
        return v.counters.duplicates === 1 ? v : undefined;
      });

      const resolved = alertmanagerPayload(
        payloads.map((p) => ({ fingerprint: p.alerts[0]!.fingerprint, status: 'resolved' as const })),
        { labels, groupKey: `{}:{dedup_key="${key}"}` },
      );
      await app.app.inject({ method: 'POST', url: '/api/v1/alerts/alertmanager', payload: resolved });
      const outcome = await env.client.workflow.getHandle(id).result();
      expect(outcome).toMatchObject({ status: 'resolved', resolution: 'auto' });
    } finally {
      await app.close();
    }
  });
});

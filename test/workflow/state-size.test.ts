/**
 * State size bounds on the time-skipping server: ~900 KB alerts sent straight as `alert` signals (no API
 * caps on that path) and a long stream of refused approvals keep the incident alive; the state stays under
 * its budget, older timeline entries go to the archive in PostgreSQL, the incident continues as new, and
 * no alert is lost.
 */
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { incidentArchive } from '../../src/adapters/store/incident-archive';
import { incidentKeyOf } from '../../src/domain/incident-record';
import type { RoutedAlert } from '../../src/domain/incident';
import { isClipped, utf8Bytes } from '../../src/domain/text-bounds';
import { DEFAULT_ALERT_CAPS } from '../../src/domain/alert-bounds';
import { alertSignal, approveSignal, incidentQuery, resolveSignal } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { openIncident } from '../helpers/incident';
import { openTestStore, type TestStore } from '../helpers/store';
import { eventually, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

const BUDGET = 128 * 1024;
const features = { slack: false, store: true, pagerduty: false, alertmanager: false };

let env: TestWorkflowEnvironment;
let store: TestStore;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
const taskQueue = uniqueTaskQueue('state-size');

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  store = await openTestStore('postgres');
  await store.store.migrate();
  worker = await startTestWorker(env, { taskQueue, store: store.store });
});

afterAll(async () => {
  await worker?.stop();
  await store?.cleanup();
  await env?.teardown();
});

function hugeAlert(i: number): RoutedAlert {
  return {
    fingerprint: `huge-${i}`,
    status: 'firing',
    source: 'alertmanager',
    name: 'AirflowTaskFailureRateHigh',
    labels: { alertname: 'AirflowTaskFailureRateHigh', severity: 'P2', stack: 'x'.repeat(450_000) },
    annotations: { summary: 's'.repeat(450_000) },
    startsAt: '2026-11-25T09:45:00.000Z',
    groupKey: 'direct',
    severity: 'P2',
  };
}

function smallAlert(i: number): RoutedAlert {
  return {
    fingerprint: `small-${i}`,
    status: 'firing',
    source: 'alertmanager',
    name: 'AirflowTaskFailureRateHigh',
    labels: { alertname: 'AirflowTaskFailureRateHigh', severity: 'P3', n: String(i) },
    annotations: { summary: `small alert ${i}` },
    startsAt: '2026-11-25T09:45:00.000Z',
    groupKey: 'direct',
    severity: 'P3',
  };
}

/**
 * Sizes of the state each continue-as-new carried: the input of every run after the first, read from its
 * start event alone (the first run's whole history, with three ~900 KB signals, is too big to fetch).
 */
async function carriedSizes(workflowId: string, firstRunId: string): Promise<number[]> {
  const sizes: number[] = [];
  let runId: string | undefined = (await env.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId && runId !== firstRunId) {
    const page: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse =
      await env.client.workflowService.getWorkflowExecutionHistory({
        namespace: 'default',
        execution: { workflowId, runId },
        maximumPageSize: 1,
      });
    const started: temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes | null | undefined =
      page.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new Error(`run ${runId} has no start event`);
    sizes.push(started.input?.payloads?.[0]?.data?.length ?? 0);
    runId = started.continuedExecutionRunId ?? undefined;
  }
  return sizes;
}

it('huge alerts and a long stream of refusals: bounded state, archived timeline, continue-as-new, every alert kept', async () => {
  const { incidentId, runId } = await openIncident({
    address: env.address,
    taskQueue,
    settings: { features, stateBudgetBytes: BUDGET },
  });
  const handle = env.client.workflow.getHandle(incidentId);

  // Three ~900 KB alerts, each its own signal, bypassing the API.
  for (let i = 0; i < 3; i++)
    await handle.signal(alertSignal, { alerts: [hugeAlert(i)], receivedAt: new Date().toISOString() });

  // 400 refused approvals with long names (each a timeline entry) and 40 small alerts in between.
  const longName = 'n'.repeat(3000);
  for (let round = 0; round < 40; round++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        handle.signal(approveSignal, {
          user: `${longName}${round}-${j}`,
          stepId: 'no_such_step',
          decision: 'approve',
          requestId: `refusal-${round}-${j}`,
        }),
      ),
    );
    await handle.signal(alertSignal, { alerts: [smallAlert(round)], receivedAt: new Date().toISOString() });
  }

  // Every alert is tracked (the opening one, three huge ones and forty small ones), the timeline went to
  // the archive, and the incident continued as new with a state back within its budget.
  const view = await eventually(
    async () => {
      const v = await handle.query(incidentQuery);
      const described = await handle.describe();
      return v.alerts.length === 44 &&
        (v.archive?.timeline ?? 0) > 0 &&
        described.runId !== runId &&
        utf8Bytes(JSON.stringify(v)) < BUDGET
        ? v
        : undefined;
    },
    120_000,
    'all alerts applied, the timeline archived and a continue-as-new',
  );
  expect(view.status).not.toBe('resolved');
  expect(view.counters.untrackedAlerts).toBe(0);
  expect(view.counters.alertsTruncated).toBe(3);
  for (let i = 0; i < 3; i++) {
    const huge = view.alerts.find((a) => a.fingerprint === `huge-${i}`)!;
    expect(isClipped(huge.summary)).toBe(true);
    expect(utf8Bytes(huge.summary)).toBeLessThanOrEqual(DEFAULT_ALERT_CAPS.maxSummaryBytes);
    expect(utf8Bytes(huge.labels.stack ?? '')).toBeLessThanOrEqual(DEFAULT_ALERT_CAPS.maxLabelValueBytes);
    expect(huge.truncation).toMatchObject({ valuesTruncated: 2 });
  }
  // Refusal texts are clipped too.
  for (const e of view.timeline) expect(utf8Bytes(e.text)).toBeLessThanOrEqual(1024);
  // The marker says what left the state.
  const marker = view.timeline.find((e) => e.kind === 'note' && typeof e.data?.archivedEntries === 'number');
  expect(marker?.text).toMatch(/^\d+ older entries archived/);

  // Every continue-as-new carried a state within the budget (plus the input's policy and runbook snapshots).
  const sizes = await carriedSizes(incidentId, runId);
  expect(sizes.length).toBeGreaterThan(0);
  for (const size of sizes) expect(size).toBeLessThan(BUDGET + 64 * 1024);

  // The archived entries are readable from the store, numbered without gaps or duplicates.
  const archived = await incidentArchive(store.store.sqlClient()).read(
    incidentKeyOf(incidentId, view.openedAt),
    'timeline',
  );
  const latest = await handle.query(incidentQuery);
  expect(archived.map((r) => r.position)).toEqual(
    Array.from({ length: latest.archive!.timeline }, (_, i) => i + 1),
  );
  expect(archived.some((r) => r.entry.kind === 'approval_refused')).toBe(true);

  // Still alive: it takes a person's action and resolves.
  await handle.signal(resolveSignal, { user: 'alice', requestId: 'resolve-1' });
  const resolved = await eventually(
    async () => {
      const v = await handle.query(incidentQuery);
      return v.status === 'resolved' || v.status === 'closed' ? v : undefined;
    },
    60_000,
    'the incident to resolve',
  );
  expect(resolved.alerts).toHaveLength(44);
});

/**
 * syncSchedules against the real Temporal dev server: create, leave unchanged, update (keeping a pause),
 * delete; and a scheduled action that runs the real data-quality workflow with a schedule run key.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSqlCheckResultStore } from '../../src/adapters/check-result-store';
import type { CheckSet } from '../../src/domain/data-quality';
import {
  DATA_QUALITY_SCHEDULE_PREFIX,
  syncSchedules,
  type SyncSchedulesOptions,
  TUNING_REPORT_SCHEDULE_ID,
} from '../../src/temporal/schedules';
import { buildTestApp } from '../helpers/app';
import {
  dataQualityAlertActivities,
  tempConfigDir,
  uniqueSuffix,
  WAREHOUSE_ENV,
  warehouseSchema,
} from '../helpers/data-quality-fixture';
import { openTestStore, type TestStore } from '../helpers/store';
import { devServerEnv, eventually, uniqueTaskQueue } from '../helpers/temporal';
import { startTestWorker } from '../helpers/worker';

const suffix = uniqueSuffix();
const orders = `sched_orders_${suffix}`;
const customers = `sched_customers_${suffix}`;
const taskQueue = uniqueTaskQueue('sched');

let env: TestWorkflowEnvironment;
let warehouse: Awaited<ReturnType<typeof warehouseSchema>>;
let configDir: ReturnType<typeof tempConfigDir>;
let checkSets: Record<string, CheckSet>;

beforeAll(async () => {
  env = await devServerEnv();
  warehouse = await warehouseSchema();
  await warehouse.sql.query(`CREATE TABLE ${warehouse.schema}.orders (id integer)`);
  await warehouse.sql.query(`INSERT INTO ${warehouse.schema}.orders VALUES (1), (2)`);
  configDir = tempConfigDir([
    {
      name: orders,
      table: `${warehouse.schema}.orders`,
      schedule: '*/30 * * * *',
      checks: ['row_count > 0'],
    },
    {
      name: customers,
      table: `${warehouse.schema}.orders`,
      schedule: '@midnight',
      checks: ['row_count > 5'],
    },
  ]);
  checkSets = configDir.config.checks;
});

afterAll(async () => {
  for await (const s of env.client.schedule.list()) {
    if (s.scheduleId.startsWith(DATA_QUALITY_SCHEDULE_PREFIX) || s.scheduleId === TUNING_REPORT_SCHEDULE_ID)
      await env.client.schedule
        .getHandle(s.scheduleId)
        .delete()
        .catch(() => undefined);
  }
  await warehouse?.drop();
  configDir?.cleanup();
  await env?.teardown();
});

function options(sets: Record<string, CheckSet>, extra: Partial<SyncSchedulesOptions> = {}) {
  return { checkSets: sets, taskQueue, tuningReport: { channel: '#data-platform' }, ...extra };
}

async function listedIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of env.client.schedule.list()) ids.push(s.scheduleId);
  return ids.sort();
}

describe('syncSchedules', () => {
  it('creates one schedule per check set and the tuning report, then leaves them unchanged', async () => {
    const first = await syncSchedules(env.client, options(checkSets));
    expect(first).toEqual([
      { scheduleId: `data-quality:${customers}`, action: 'created' },
      { scheduleId: `data-quality:${orders}`, action: 'created' },
      { scheduleId: 'alert-tuning-report', action: 'created' },
    ]);
    const desc = await env.client.schedule.getHandle(`data-quality:${orders}`).describe();
    expect(desc.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 600_000 });
    expect(desc.action).toMatchObject({
      workflowType: 'dataQualityWorkflow',
      workflowId: `data-quality:${orders}`,
      taskQueue,
      args: [{ checkSet: orders, trigger: 'schedule' }],
    });
    for (const next of desc.info.nextActionTimes) expect([0, 30]).toContain(next.getUTCMinutes());
    const report = await env.client.schedule.getHandle('alert-tuning-report').describe();
    expect(report.action.args).toEqual([{ periodDays: 30, channel: '#data-platform' }]);
    for (const next of report.info.nextActionTimes) {
      expect([next.getUTCDate(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 9, 0]);
    }
    await eventually(async () => {
      const ids = await listedIds();
      return [`data-quality:${customers}`, `data-quality:${orders}`, 'alert-tuning-report'].every((id) =>
        ids.includes(id),
      )
        ? ids
        : undefined;
    });

    const second = await syncSchedules(env.client, options(checkSets));
    expect(second.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  it('updates a changed cron and keeps a schedule an operator paused paused', async () => {
    await env.client.schedule.getHandle(`data-quality:${orders}`).pause('maintenance of the warehouse');
    const changed = { ...checkSets, [orders]: { ...checkSets[orders]!, schedule: '15 3 * * *' } };
    const result = await syncSchedules(env.client, options(changed));
    expect(result).toContainEqual({ scheduleId: `data-quality:${orders}`, action: 'updated' });
    expect(result).toContainEqual({ scheduleId: `data-quality:${customers}`, action: 'unchanged' });
    const desc = await env.client.schedule.getHandle(`data-quality:${orders}`).describe();
    expect(desc.state).toMatchObject({ paused: true, note: 'maintenance of the warehouse' });
    expect(desc.info.nextActionTimes.length).toBeGreaterThan(0);
    for (const next of desc.info.nextActionTimes) {
      expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([3, 15]);
    }
  });

  it('deletes the schedule of a check set that left the configuration', async () => {
    await eventually(async () =>
      (await listedIds()).includes(`data-quality:${customers}`) ? true : undefined,
    );
    const { [customers]: _gone, ...rest } = checkSets;
    const result = await syncSchedules(env.client, options(rest));
    expect(result).toContainEqual({ scheduleId: `data-quality:${customers}`, action: 'deleted' });
    await expect(
      env.client.schedule.getHandle(`data-quality:${customers}`).describe(),
    ).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await eventually(async () =>
      (await listedIds()).includes(`data-quality:${customers}`) ? undefined : true,
    );
    expect(await listedIds()).toContain(`data-quality:${orders}`);
  });
});

describe('a scheduled data-quality run', () => {
  let stored: TestStore;
  let testApp: ReturnType<typeof buildTestApp>;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;

  beforeAll(async () => {
    stored = await openTestStore('postgres');
    await stored.store.migrate();
    testApp = buildTestApp({
      address: process.env.TEMPORAL_TEST_ADDRESS!,
      taskQueue,
      config: configDir.config,
    });
    worker = await startTestWorker(env, {
      taskQueue,
      env: { [WAREHOUSE_ENV]: warehouse.url },
      config: configDir.config,
      store: stored.store,
      activities: dataQualityAlertActivities(testApp.starter, configDir.config, stored.store),
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await testApp?.close();
    await stored?.cleanup();
  });

  it('runs the check set with the schedule time as its run key', async () => {
    await syncSchedules(env.client, options(checkSets));
    const handle = env.client.schedule.getHandle(`data-quality:${orders}`);
    await handle.unpause();
    await handle.trigger();
    const results = createSqlCheckResultStore(stored.store.sqlClient());
    const [run] = await eventually(async () => {
      const runs = await results.recentRuns({ checkSet: orders, limit: 5 });
      return runs.length > 0 ? runs : undefined;
    });
    expect(run!.outcome).toBe('pass');
    const action = (await handle.describe()).info.recentActions.at(-1)!;
    // The search attribute and the workflow id carry the planned time to the second (cron times are whole
    // seconds; a manual trigger is not).
    const second = new Date(Math.floor(action.scheduledAt.getTime() / 1000) * 1000);
    expect(run!.runKey).toBe(`schedule:${second.toISOString()}`);
    expect(action.action.workflow.workflowId).toBe(
      `data-quality:${orders}-${second.toISOString().replace('.000Z', 'Z')}`,
    );
  });
});

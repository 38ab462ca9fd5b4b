/** A rotation hand-off during an incident pages the new primary (time-skipping server, own file: own clock). */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../../src/config/load-config';
import { OncallConfig, onCallAt } from '../../src/domain/oncall';
import { incidentQuery, resolveSignal } from '../../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import type { TwilioDouble } from '../doubles/twilio-double';
import { shippedConfig } from '../helpers/app';
import { openIncident } from '../helpers/incident';
import { minutesAfterOpen, startPagingDoubles, type PagingDoubles } from '../helpers/paging-doubles';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { registerSearchAttributes } from '../helpers/time-skipping';
import { startTestWorker } from '../helpers/worker';

const MIN = 60_000;

let env: TestWorkflowEnvironment;
let doubles: PagingDoubles;
let twilio: TwilioDouble;
const features = { slack: true, store: false, pagerduty: false, alertmanager: false };
const workerEnv = (): Record<string, string> => doubles.workerEnv();

beforeAll(async () => {
  env = await timeSkippingEnv();
  await registerSearchAttributes(env, ALL_SEARCH_ATTRIBUTES);
  doubles = await startPagingDoubles();
  twilio = doubles.twilio;
});

afterAll(async () => {
  await doubles?.close();
  await env?.teardown();
});

describe('a rotation hand-off during an incident', () => {
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const taskQueue = uniqueTaskQueue('handoff');

  afterAll(async () => {
    await worker?.stop();
  });

  it('pages the new primary, not the old one', async () => {
    // A daily rotation between alice and bob that hands off 5 minutes after the incident opens.
    const now = await env.currentTimeMs();
    const handoff = new Date(Math.ceil((now + 5 * MIN) / MIN) * MIN);
    const hhmm = handoff.toISOString().slice(11, 16);
    const start = new Date(now - 2 * 86_400_000).toISOString().slice(0, 10);
    const oncall = OncallConfig.parse({
      people: shippedConfig.oncall.people,
      schedules: {
        rota: {
          timezone: 'UTC',
          layers: [
            {
              name: 'daily',
              rotation: 'daily',
              handoff: { time: hhmm },
              start,
              participants: ['alice', 'bob'],
            },
          ],
        },
      },
      roles: {
        primary: { schedule: 'rota' },
        secondary: { schedule: 'rota', offset: 1 },
        manager: { person: 'erin' },
        team_lead: { person: 'frank' },
      },
    });
    const config: AppConfig = { ...shippedConfig, oncall };
    const before = onCallAt(oncall, 'rota', now)!;
    const after = onCallAt(oncall, 'rota', handoff.getTime() + MIN)!;
    expect(before).not.toBe(after);

    worker = await startTestWorker(env, { taskQueue, env: workerEnv(), config });
    const { incidentId } = await openIncident({
      address: env.address,
      taskQueue,
      config,
      settings: { features },
    });
    await env.sleep('10m');
    await env.sleep('10s');
    const v = await env.client.workflow.getHandle(incidentId).query(incidentQuery);
    expect(minutesAfterOpen(v, 2)).toBeCloseTo(10, 1);
    const dag = v.alerts[0]!.labels.dag_id!;
    const sms = twilio.messages.filter((m) => m.body?.includes(dag) === true);
    expect(sms.map((m) => m.to)).toEqual([oncall.people[after]!.phone]);
    expect(sms.map((m) => m.to)).not.toContain(oncall.people[before]!.phone);
    await env.client.workflow.getHandle(incidentId).signal(resolveSignal, { user: 'test' });
    await env.client.workflow.getHandle(incidentId).result();
  });
});

import { CheckSet } from '../../../src/domain/data-quality';
import {
  DEFAULT_TUNING_REPORT_CRON,
  desiredSchedules,
  toTemporalCron,
} from '../../../src/temporal/schedules';

function set(name: string, schedule: string): CheckSet {
  return CheckSet.parse({
    name,
    data_source: { connection_env: 'WAREHOUSE_DATABASE_URL' },
    table: `analytics.${name}`,
    schedule,
    checks: ['row_count > 0'],
  });
}

describe('toTemporalCron', () => {
  it.each([
    ['*/30 * * * *', '*/30 * * * *'],
    ['  0 9 1 * *  ', '0 9 1 * *'],
    ['@hourly', '@hourly'],
    ['@midnight', '@daily'],
    ['@annually', '@yearly'],
  ])('passes %j to Temporal as %j', (input, expected) => {
    expect(toTemporalCron(input)).toBe(expected);
  });
});

describe('desiredSchedules', () => {
  const options = {
    checkSets: { orders: set('orders', '@midnight'), customers: set('customers', '*/30 * * * *') },
    taskQueue: 'incidentflow',
    tuningReport: { channel: '#data-platform' },
    timeZone: 'Asia/Seoul',
  };

  it('asks for one schedule per check set, by name, then the tuning report', () => {
    expect(desiredSchedules(options).map((s) => s.scheduleId)).toEqual([
      'data-quality:customers',
      'data-quality:orders',
      'alert-tuning-report',
    ]);
  });

  it('starts the data-quality workflow with the check set cron, overlap SKIP and a 10 minute catch-up', () => {
    const orders = desiredSchedules(options)[1]!;
    expect(orders.spec).toEqual({ cronExpressions: ['@daily'], timezone: 'Asia/Seoul' });
    expect(orders.policies).toEqual({ overlap: 'SKIP', catchupWindow: 600_000, pauseOnFailure: false });
    expect(orders.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'dataQualityWorkflow',
      workflowId: 'data-quality:orders',
      taskQueue: 'incidentflow',
      args: [{ checkSet: 'orders', trigger: 'schedule' }],
    });
  });

  it('runs the tuning report at 09:00 on the 1st by default, posting to the given channel', () => {
    const report = desiredSchedules(options)[2]!;
    expect(DEFAULT_TUNING_REPORT_CRON).toBe('0 9 1 * *');
    expect(report.spec.cronExpressions).toEqual(['0 9 1 * *']);
    expect(report.action).toMatchObject({
      workflowType: 'alertTuningReportWorkflow',
      args: [{ periodDays: 30, channel: '#data-platform' }],
    });
    expect(report.policies?.catchupWindow).toBe(86_400_000);
  });

  it('stamps a definition hash that changes with the definition only', () => {
    const hash = (o: typeof options) => desiredSchedules(o)[0]!.action.memo;
    expect(hash(options)).toEqual(hash({ ...options }));
    expect(hash(options)).not.toEqual(
      hash({ ...options, checkSets: { ...options.checkSets, customers: set('customers', '0 * * * *') } }),
    );
    expect(hash(options)).not.toEqual(hash({ ...options, taskQueue: 'other' }));
  });

  it('rejects an invalid tuning report cron naming the problem', () => {
    expect(() => desiredSchedules({ ...options, tuningReport: { cron: '0 9 32 * *' } })).toThrow(
      'tuning report schedule "0 9 32 * *": day-of-month "32" is out of range 1-31',
    );
  });
});

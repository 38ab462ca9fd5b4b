import {
  buildTuningReport,
  percentile,
  renderTuningReport,
  type TuningAlertRow,
  type TuningData,
} from '../../../src/domain/tuning-report';

function alert(overrides: Partial<TuningAlertRow>): TuningAlertRow {
  return {
    fingerprint: 'fp-1',
    name: 'AirflowTaskFailureRateHigh',
    incidentKey: 'i1',
    incidentType: 'task_failure_rate',
    service: 'customer_etl',
    runbook: 'task_temporary_failure',
    firstFiredAt: '2026-10-03T09:00:00.000Z',
    resolvedAt: '2026-10-03T09:05:00.000Z',
    refires: 0,
    actionTaken: true,
    ...overrides,
  };
}

const data: TuningData = {
  from: '2026-10-01T00:00:00.000Z',
  to: '2026-11-01T00:00:00.000Z',
  alerts: [
    alert({
      fingerprint: 'flap',
      name: 'SchedulerHeartbeatMissing',
      incidentKey: 'i1',
      refires: 2,
      actionTaken: false,
    }),
    alert({
      fingerprint: 'flap',
      name: 'SchedulerHeartbeatMissing',
      incidentKey: 'i2',
      refires: 1,
      actionTaken: false,
    }),
    alert({ fingerprint: 'steady', incidentKey: 'i3' }),
    alert({
      fingerprint: 'norb',
      name: 'DiskAlmostFull',
      incidentKey: 'i4',
      runbook: undefined,
      incidentType: 'generic',
    }),
    alert({
      fingerprint: 'firing',
      name: 'SlaMiss',
      incidentKey: 'i5',
      resolvedAt: undefined,
      actionTaken: false,
    }),
  ],
  incidents: [
    {
      incidentKey: 'i1',
      incidentType: 'scheduler',
      service: 'airflow',
      openedAt: '2026-10-03T09:00:00.000Z',
      ttaSeconds: 600,
      ttrSeconds: 900,
      outcome: 'auto_resolved',
    },
    {
      incidentKey: 'i2',
      incidentType: 'scheduler',
      service: 'airflow',
      openedAt: '2026-10-04T09:00:00.000Z',
      ttaSeconds: 1200,
      ttrSeconds: 1500,
      outcome: 'auto_resolved',
    },
    {
      incidentKey: 'i3',
      incidentType: 'task_failure_rate',
      service: 'customer_etl',
      openedAt: '2026-10-05T09:00:00.000Z',
      ttaSeconds: 60,
      ttrSeconds: 300,
    },
    {
      incidentKey: 'i5',
      incidentType: 'sla_miss',
      service: 'customer_etl',
      openedAt: '2026-10-06T09:00:00.000Z',
    },
  ],
};

describe('buildTuningReport', () => {
  it('counts an alert that refired 3 times across two incidents as flapping', () => {
    const report = buildTuningReport(data, { flapThreshold: 3 });
    expect(report.flapping).toEqual([
      { name: 'SchedulerHeartbeatMissing', fingerprint: 'flap', fires: 5, refires: 4, incidents: 2 },
    ]);
  });

  it('does not flag an alert below the flap threshold', () => {
    expect(buildTuningReport(data, { flapThreshold: 5 }).flapping).toEqual([]);
  });

  it('lists alerts that resolved without any action as noise, ignoring still-firing ones', () => {
    expect(buildTuningReport(data).noise).toEqual([
      { name: 'SchedulerHeartbeatMissing', occurrences: 2, withoutAction: 2 },
    ]);
  });

  it('lists alerts whose incidents had no runbook', () => {
    expect(buildTuningReport(data).withoutRunbook).toEqual([
      { name: 'DiskAlmostFull', occurrences: 1, incidentTypes: ['generic'] },
    ]);
  });

  it('ranks incident types by median time to acknowledge', () => {
    expect(buildTuningReport(data).slowestToAcknowledge).toEqual([
      { incidentType: 'scheduler', incidents: 2, p50Seconds: 600, maxSeconds: 1200 },
      { incidentType: 'task_failure_rate', incidents: 1, p50Seconds: 60, maxSeconds: 60 },
    ]);
  });

  it('totals incidents, alerts and auto-resolved incidents', () => {
    expect(buildTuningReport(data).totals).toEqual({
      incidents: 4,
      alerts: 5,
      autoResolved: 2,
      alertsWithoutAction: 2,
    });
  });
});

describe('percentile', () => {
  it.each([
    [[5], 0.5, 5],
    [[1, 2, 3, 4], 0.5, 2],
    [[4, 1, 3], 0.5, 3],
    [[], 0.5, 0],
  ])('takes the nearest-rank percentile of %j', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('renderTuningReport', () => {
  it('renders each section for Slack', () => {
    const text = renderTuningReport(buildTuningReport(data));
    expect(text.split('\n')).toEqual([
      '*Alert tuning report* — 2026-10-01 → 2026-11-01 (UTC)',
      '4 incidents (2 auto-resolved), 5 alert occurrences, 2 resolved without any action',
      '',
      '*Noise: alerts that resolved without any action*',
      '- `SchedulerHeartbeatMissing` — 2 of 2 times',
      '',
      '*Flapping: refired 3+ times*',
      '- `SchedulerHeartbeatMissing` (fingerprint `flap`) — fired 5 times (4 refires) in 2 incidents',
      '',
      '*Alerts with no runbook*',
      '- `DiskAlmostFull` — 1 time (generic)',
      '',
      '*Slowest to acknowledge*',
      '- scheduler — p50 10m, max 20m (2 incidents)',
      '- task_failure_rate — p50 1m, max 1m (1 incident)',
      '',
      '*Slowest to resolve*',
      '- scheduler — p50 15m, max 25m (2 incidents)',
      '- task_failure_rate — p50 5m, max 5m (1 incident)',
      '',
    ]);
  });
});

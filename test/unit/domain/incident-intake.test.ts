import {
  applyAlerts,
  DEFAULT_INTAKE_LIMITS,
  type IntakeState,
  type RoutedAlert,
} from '../../../src/domain/incident';

function state(): IntakeState {
  return {
    severity: 'P3',
    alerts: {},
    seen: [],
    counters: { deliveries: 0, duplicates: 0, untrackedAlerts: 0, timelineDropped: 0 },
    timeline: [],
  };
}

function alert(fp: string, status: 'firing' | 'resolved', extra: Partial<RoutedAlert> = {}): RoutedAlert {
  return {
    fingerprint: fp,
    status,
    source: 'alertmanager',
    name: 'AirflowTaskFailureRateHigh',
    labels: { alertname: 'AirflowTaskFailureRateHigh' },
    annotations: { summary: `alert ${fp}` },
    startsAt: '2026-11-25T09:45:00.000Z',
    groupKey: 'g',
    severity: 'P3',
    ...(status === 'resolved' ? { endsAt: '2026-11-25T10:00:00.000Z' } : {}),
    ...extra,
  };
}

const T1 = '2026-11-25T09:46:00.000Z';
const T2 = '2026-11-25T09:50:00.000Z';

describe('applyAlerts', () => {
  it('drops an exact re-delivery (same group, fingerprint, status and start)', () => {
    const s = state();
    applyAlerts(s, [alert('a', 'firing')], T1);
    const result = applyAlerts(s, [alert('a', 'firing')], T2);
    expect(result).toMatchObject({ applied: 0, duplicates: 1 });
    expect(s.counters).toMatchObject({ deliveries: 2, duplicates: 1 });
    expect(s.timeline.filter((e) => e.kind === 'alert_firing')).toHaveLength(1);
  });

  it('decides per alert in a mixed batch', () => {
    const s = state();
    applyAlerts(s, [alert('a', 'firing'), alert('b', 'firing')], T1);
    const result = applyAlerts(
      s,
      [alert('a', 'resolved'), alert('b', 'firing', { startsAt: '2026-11-25T09:46:00.000Z' })],
      T2,
    );
    expect(result.newlyResolved).toEqual(['a']);
    expect(s.alerts.a!.status).toBe('resolved');
    expect(s.alerts.b!.status).toBe('firing');
    expect(s.allResolvedSince).toBeUndefined();
  });

  it('marks the instant every alert became resolved, and clears it when one fires again', () => {
    const s = state();
    applyAlerts(s, [alert('a', 'firing')], T1);
    applyAlerts(s, [alert('a', 'resolved')], T2);
    expect(s.allResolvedSince).toBe(T2);
    applyAlerts(
      s,
      [alert('a', 'firing', { startsAt: '2026-11-25T10:05:00.000Z' })],
      '2026-11-25T10:05:00.000Z',
    );
    expect(s.allResolvedSince).toBeUndefined();
    expect(s.alerts.a).toMatchObject({ status: 'firing', refires: 1 });
  });

  it('raises the incident severity when a worse alert joins, never lowers it', () => {
    const s = state();
    const raised = applyAlerts(s, [alert('a', 'firing', { severity: 'P1' })], T1);
    expect(raised.severityRaisedFrom).toBe('P3');
    expect(s.severity).toBe('P1');
    applyAlerts(s, [alert('b', 'firing', { severity: 'P4' })], T2);
    expect(s.severity).toBe('P1');
    expect(s.timeline.map((e) => e.kind)).toEqual(['alert_firing', 'severity_raised', 'alert_firing']);
  });

  it('records a resolved alert it never saw firing without opening anything', () => {
    const s = state();
    const result = applyAlerts(s, [alert('a', 'resolved')], T1);
    expect(result.newlyFiring).toEqual([]);
    expect(s.alerts.a!.status).toBe('resolved');
    expect(s.allResolvedSince).toBe(T1);
  });

  it('keeps the dedup memory and the tracked alerts bounded', () => {
    const s = state();
    const limits = { ...DEFAULT_INTAKE_LIMITS, dedupCapacity: 3, maxAlerts: 2 };
    applyAlerts(
      s,
      ['a', 'b', 'c', 'd'].map((fp) => alert(fp, 'firing')),
      T1,
      limits,
    );
    expect(s.seen).toHaveLength(3);
    expect(Object.keys(s.alerts)).toEqual(['a', 'b']);
    expect(s.counters.untrackedAlerts).toBe(2);
  });
});

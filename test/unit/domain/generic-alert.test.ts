import { alertFromGeneric, fingerprintOf, GenericAlert } from '../../../src/domain/generic-alert';

const NOW = '2026-11-25T09:45:00.000Z';

describe('alertFromGeneric', () => {
  it('keeps one identity for the firing and the resolved notification of the same alert', () => {
    const base = { name: 'AirflowTaskFailed', labels: { dag_id: 'etl', task_id: 'load' }, severity: 'P2' };
    const firing = alertFromGeneric(GenericAlert.parse(base), NOW);
    const resolved = alertFromGeneric(
      GenericAlert.parse({ ...base, status: 'resolved', severity: 'P3' }),
      NOW,
    );
    expect(firing.fingerprint).toBe(resolved.fingerprint);
    expect(firing.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(resolved).toMatchObject({ status: 'resolved', endsAt: NOW });
  });

  it('moves top-level fields into labels and annotations', () => {
    const a = alertFromGeneric(
      GenericAlert.parse({ name: 'X', severity: 'P1', dedup_key: 'k', summary: 's', labels: { a: '1' } }),
      NOW,
    );
    expect(a.labels).toEqual({ a: '1', alertname: 'X', severity: 'P1', dedup_key: 'k' });
    expect(a.annotations).toEqual({ summary: 's' });
    expect(a.startsAt).toBe(NOW);
  });

  it('uses an explicit fingerprint as given', () => {
    expect(alertFromGeneric(GenericAlert.parse({ name: 'X', fingerprint: 'abc' }), NOW).fingerprint).toBe(
      'abc',
    );
  });

  it.each([
    ['', 'cbf29ce484222325'],
    ['a', 'af63dc4c8601ec8c'],
  ])('fingerprintOf(%j) is FNV-1a 64', (input, expected) => {
    expect(fingerprintOf(input)).toBe(expected);
  });
});

import type { Alert } from '../../../src/domain/alert';
import { type AlertCaps, boundAlert, DEFAULT_ALERT_CAPS } from '../../../src/domain/alert-bounds';
import { isClipped, utf8Bytes } from '../../../src/domain/text-bounds';

function alert(extra: Partial<Alert> = {}): Alert {
  return {
    fingerprint: 'abc123',
    status: 'firing',
    source: 'alertmanager',
    name: 'AirflowTaskFailureRateHigh',
    labels: { alertname: 'AirflowTaskFailureRateHigh', severity: 'P2', dag_id: 'customer_etl' },
    annotations: { summary: 'customer_etl failing', description: 'more' },
    startsAt: '2026-11-25T09:45:00.000Z',
    groupKey: '{}:{alertname="AirflowTaskFailureRateHigh"}',
    ...extra,
  };
}

const small: AlertCaps = {
  ...DEFAULT_ALERT_CAPS,
  maxLabels: 3,
  maxLabelKeyBytes: 16,
  maxLabelValueBytes: 64,
  maxLabelBytes: 150,
  maxAnnotations: 3,
  maxAnnotationKeyBytes: 16,
  maxAnnotationValueBytes: 64,
  maxSummaryBytes: 80,
  maxDescriptionBytes: 100,
  maxAnnotationBytes: 250,
  maxIdBytes: 32,
  maxUrlBytes: 40,
};

describe('boundAlert', () => {
  it('leaves an alert within every cap unchanged and unmarked', () => {
    const a = alert({ generatorURL: 'http://prom/graph' });
    expect(boundAlert(a)).toEqual(a);
    expect(boundAlert(a).truncation).toBeUndefined();
  });

  it.each([
    {
      name: 'a 900 KB summary is cut to the summary cap with the marker',
      input: alert({ annotations: { summary: 's'.repeat(900_000) } }),
      check: (b: Alert) => {
        expect(utf8Bytes(b.annotations.summary!)).toBeLessThanOrEqual(80);
        expect(b.annotations.summary).toMatch(/^s+…\[truncated \d+ bytes\]$/);
      },
      truncation: { labelsDropped: 0, annotationsDropped: 0, valuesTruncated: 1 },
    },
    {
      name: 'description has its own (larger) cap',
      input: alert({ annotations: { description: 'd'.repeat(500) } }),
      check: (b: Alert) => expect(utf8Bytes(b.annotations.description!)).toBeLessThanOrEqual(100),
      truncation: { labelsDropped: 0, annotationsDropped: 0, valuesTruncated: 1 },
    },
    {
      name: 'a long label value is truncated, not dropped',
      input: alert({ labels: { alertname: 'A', instance: 'i'.repeat(10_000) } }),
      check: (b: Alert) => {
        expect(isClipped(b.labels.instance!)).toBe(true);
        expect(utf8Bytes(b.labels.instance!)).toBeLessThanOrEqual(64);
      },
      truncation: { labelsDropped: 0, annotationsDropped: 0, valuesTruncated: 1 },
    },
    {
      name: 'a label key over the key cap is dropped and counted',
      input: alert({ labels: { alertname: 'A', ['k'.repeat(17)]: 'v' } }),
      check: (b: Alert) => expect(Object.keys(b.labels)).toEqual(['alertname']),
      truncation: { labelsDropped: 1, annotationsDropped: 0, valuesTruncated: 0 },
    },
    {
      name: 'labels beyond the count cap are dropped, keeping routing labels first',
      input: alert({ labels: { a: '1', b: '2', c: '3', alertname: 'A', severity: 'P1' } }),
      check: (b: Alert) => expect(Object.keys(b.labels)).toEqual(['a', 'alertname', 'severity']),
      truncation: { labelsDropped: 2, annotationsDropped: 0, valuesTruncated: 0 },
    },
    {
      name: 'labels beyond the total size cap are dropped',
      input: alert({ labels: { alertname: 'A', x: 'x'.repeat(60), y: 'y'.repeat(60), z: 'z'.repeat(30) } }),
      check: (b: Alert) => expect(Object.keys(b.labels)).toEqual(['alertname', 'x', 'y']),
      truncation: { labelsDropped: 1, annotationsDropped: 0, valuesTruncated: 0 },
    },
    {
      name: 'annotations beyond the count cap are dropped, summary and description kept',
      input: alert({ annotations: { a: '1', b: '2', c: '3', description: 'd', summary: 's' } }),
      check: (b: Alert) => expect(Object.keys(b.annotations)).toEqual(['a', 'description', 'summary']),
      truncation: { labelsDropped: 0, annotationsDropped: 2, valuesTruncated: 0 },
    },
    {
      name: 'a long fingerprint and group key become stable hashes',
      input: alert({ fingerprint: 'f'.repeat(100), groupKey: 'g'.repeat(100) }),
      check: (b: Alert) => {
        expect(b.fingerprint).toMatch(/^h:[0-9a-f]{16}$/);
        expect(b.groupKey).toMatch(/^h:[0-9a-f]{16}$/);
      },
      truncation: undefined,
    },
    {
      name: 'a generator URL over its cap is dropped (a cut link is broken)',
      input: alert({ generatorURL: `http://prom/${'q'.repeat(100)}` }),
      check: (b: Alert) => expect(b.generatorURL).toBeUndefined(),
      truncation: { labelsDropped: 0, annotationsDropped: 1, valuesTruncated: 0 },
    },
    {
      name: 'a non-string value (a signal that skipped validation) is dropped',
      input: alert({ labels: { alertname: 'A', bad: 42 as unknown as string } }),
      check: (b: Alert) => expect(b.labels).toEqual({ alertname: 'A' }),
      truncation: { labelsDropped: 1, annotationsDropped: 0, valuesTruncated: 0 },
    },
  ])('$name', ({ input, check, truncation }) => {
    const bounded = boundAlert(input, small);
    check(bounded);
    expect(bounded.truncation).toEqual(truncation);
    // Idempotent: a second hop (the workflow after the API) changes nothing and counts nothing twice.
    expect(boundAlert(bounded, small)).toEqual(bounded);
  });

  it('turns fields of the wrong type (a signal that skipped validation) into strings instead of failing', () => {
    const raw = alert({
      name: undefined as unknown as string,
      fingerprint: 12345 as unknown as string,
      labels: undefined as unknown as Record<string, string>,
      annotations: undefined as unknown as Record<string, string>,
    });
    const bounded = boundAlert(raw);
    expect(bounded).toMatchObject({ name: 'unnamed', fingerprint: '12345', labels: {}, annotations: {} });
  });

  it('keeps a routed alert routed (extra fields pass through)', () => {
    const routed = { ...alert({ annotations: { summary: 'x'.repeat(5000) } }), severity: 'P1' as const };
    const bounded = boundAlert(routed);
    expect(bounded.severity).toBe('P1');
    expect(utf8Bytes(bounded.annotations.summary!)).toBeLessThanOrEqual(DEFAULT_ALERT_CAPS.maxSummaryBytes);
  });

  it('bounds a three-megabyte alert to well under the default total caps', () => {
    const big = alert({
      labels: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`l${i}`, 'v'.repeat(5000)])),
      annotations: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`a${i}`, 'w'.repeat(10_000)])),
    });
    const bounded = boundAlert(big);
    const size = utf8Bytes(JSON.stringify(bounded));
    expect(size).toBeLessThan(
      DEFAULT_ALERT_CAPS.maxLabelBytes + DEFAULT_ALERT_CAPS.maxAnnotationBytes + 2048,
    );
    expect(bounded.truncation!.labelsDropped).toBeGreaterThan(0);
    expect(bounded.truncation!.annotationsDropped).toBeGreaterThan(0);
  });
});

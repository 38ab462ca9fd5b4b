/**
 * Size caps on one alert (pure, workflow-safe). Applied by the ingress before anything reaches Temporal and
 * again by the incident workflow on every `alert` signal, since a signal sent straight to Temporal bypasses
 * the API. Values over a cap are truncated with a visible marker, never rejected; keys over the cap and
 * entries beyond the count or total caps are dropped and counted in {@link AlertTruncation}.
 */
import type { Alert, AlertTruncation } from './alert';
import { boundedId, clipText, utf8Bytes } from './text-bounds';

/** Caps on one alert, in UTF-8 bytes and entries. */
export interface AlertCaps {
  maxLabels: number;
  maxLabelKeyBytes: number;
  maxLabelValueBytes: number;
  /** All label keys and values together. */
  maxLabelBytes: number;
  maxAnnotations: number;
  maxAnnotationKeyBytes: number;
  /** Annotations other than `summary` and `description`. */
  maxAnnotationValueBytes: number;
  maxSummaryBytes: number;
  maxDescriptionBytes: number;
  /** All annotation keys and values together. */
  maxAnnotationBytes: number;
  /** Alert name. */
  maxNameBytes: number;
  /** Fingerprint and group key: longer ones are replaced by a hash of themselves. */
  maxIdBytes: number;
  /** Generator URL: a longer one is dropped (a cut URL is a broken link). */
  maxUrlBytes: number;
  /** Timestamps (`startsAt`, `endsAt`). */
  maxTimestampBytes: number;
}

export const DEFAULT_ALERT_CAPS: AlertCaps = {
  maxLabels: 64,
  maxLabelKeyBytes: 128,
  maxLabelValueBytes: 1024,
  maxLabelBytes: 16_384,
  maxAnnotations: 32,
  maxAnnotationKeyBytes: 128,
  maxAnnotationValueBytes: 4096,
  maxSummaryBytes: 1024,
  maxDescriptionBytes: 8192,
  maxAnnotationBytes: 32_768,
  maxNameBytes: 256,
  maxIdBytes: 256,
  maxUrlBytes: 2048,
  maxTimestampBytes: 64,
};

/** Labels kept first when some must go: they route, name and deduplicate the alert. */
const PRIORITY_LABELS = [
  'alertname',
  'severity',
  'dedup_key',
  'service',
  'incident_type',
  'dag_id',
  'task_id',
];
/** Annotations kept first: they become the incident's headline. */
const PRIORITY_ANNOTATIONS = ['summary', 'description'];

function prioritised(entries: Array<[string, string]>, first: readonly string[]): Array<[string, string]> {
  const rank = (k: string): number => {
    const i = first.indexOf(k);
    return i < 0 ? first.length : i;
  };
  // Stable: entries of equal rank keep their order.
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e[0]) - rank(b.e[0]) || a.i - b.i)
    .map(({ e }) => e);
}

interface MapCaps {
  count: number;
  keyBytes: number;
  valueBytes: (key: string) => number;
  totalBytes: number;
  priority: readonly string[];
}

function boundMap(
  map: Record<string, string>,
  caps: MapCaps,
): { map: Record<string, string>; dropped: number; truncated: number } {
  const kept = new Map<string, string>();
  let dropped = 0;
  let truncated = 0;
  let total = 0;
  let count = 0;
  // Priority decides which entries survive; the survivors keep their original order.
  for (const [key, raw] of prioritised(Object.entries(map), caps.priority)) {
    if (typeof raw !== 'string' || utf8Bytes(key) > caps.keyBytes || count >= caps.count) {
      dropped += 1;
      continue;
    }
    const value = clipText(raw, caps.valueBytes(key));
    const size = utf8Bytes(key) + utf8Bytes(value);
    if (total + size > caps.totalBytes) {
      dropped += 1;
      continue;
    }
    if (value !== raw) truncated += 1;
    kept.set(key, value);
    total += size;
    count += 1;
  }
  const out: Record<string, string> = {};
  for (const key of Object.keys(map)) {
    const value = kept.get(key);
    if (value !== undefined) out[key] = value;
  }
  return { map: out, dropped, truncated };
}

function asText(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? fallback : JSON.stringify(value);
}

/** Labels with the label caps applied (for records kept before the caps existed). */
export function boundLabels(
  labels: Record<string, string>,
  caps: AlertCaps = DEFAULT_ALERT_CAPS,
): { labels: Record<string, string>; dropped: number; truncated: number } {
  const r = boundMap(labels, {
    count: caps.maxLabels,
    keyBytes: caps.maxLabelKeyBytes,
    valueBytes: () => caps.maxLabelValueBytes,
    totalBytes: caps.maxLabelBytes,
    priority: PRIORITY_LABELS,
  });
  return { labels: r.map, dropped: r.dropped, truncated: r.truncated };
}

/** The labels that route, name and deduplicate an alert, in the order they are kept. */
export const ESSENTIAL_LABELS: readonly string[] = PRIORITY_LABELS;

/**
 * The alert with every cap applied. Idempotent: bounding a bounded alert changes nothing. What was cut is
 * added to the alert's `truncation` counters (absent when nothing ever was).
 */
export function boundAlert<A extends Alert>(alert: A, caps: AlertCaps = DEFAULT_ALERT_CAPS): A {
  const labels = boundMap(alert.labels ?? {}, {
    count: caps.maxLabels,
    keyBytes: caps.maxLabelKeyBytes,
    valueBytes: () => caps.maxLabelValueBytes,
    totalBytes: caps.maxLabelBytes,
    priority: PRIORITY_LABELS,
  });
  const annotations = boundMap(alert.annotations ?? {}, {
    count: caps.maxAnnotations,
    keyBytes: caps.maxAnnotationKeyBytes,
    valueBytes: (k) =>
      k === 'summary'
        ? caps.maxSummaryBytes
        : k === 'description'
          ? caps.maxDescriptionBytes
          : caps.maxAnnotationValueBytes,
    totalBytes: caps.maxAnnotationBytes,
    priority: PRIORITY_ANNOTATIONS,
  });
  // A signal sent straight to Temporal is not validated: anything but a string becomes one.
  const name = clipText(asText(alert.name, 'unnamed'), caps.maxNameBytes);
  let truncatedValues = labels.truncated + annotations.truncated + (name !== alert.name ? 1 : 0);
  const clipTime = (t: string): string => {
    const c = clipText(asText(t, ''), caps.maxTimestampBytes);
    if (c !== t) truncatedValues += 1;
    return c;
  };
  const keepUrl = typeof alert.generatorURL === 'string' && utf8Bytes(alert.generatorURL) <= caps.maxUrlBytes;
  const urlDropped = alert.generatorURL !== undefined && !keepUrl ? 1 : 0;
  const cut: AlertTruncation = {
    labelsDropped: (alert.truncation?.labelsDropped ?? 0) + labels.dropped,
    annotationsDropped: (alert.truncation?.annotationsDropped ?? 0) + annotations.dropped + urlDropped,
    valuesTruncated: (alert.truncation?.valuesTruncated ?? 0) + truncatedValues,
  };
  const { generatorURL: _url, endsAt, truncation: _t, ...rest } = alert;
  const bounded = {
    ...rest,
    fingerprint: boundedId(asText(alert.fingerprint, ''), caps.maxIdBytes),
    name,
    labels: labels.map,
    annotations: annotations.map,
    startsAt: clipTime(alert.startsAt),
    ...(endsAt !== undefined ? { endsAt: clipTime(endsAt) } : {}),
    ...(keepUrl ? { generatorURL: alert.generatorURL } : {}),
    ...(alert.groupKey !== undefined
      ? { groupKey: boundedId(asText(alert.groupKey, ''), caps.maxIdBytes) }
      : {}),
  } as A;
  if (cut.labelsDropped + cut.annotationsDropped + cut.valuesTruncated > 0) bounded.truncation = cut;
  return bounded;
}

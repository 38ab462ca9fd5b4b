import { z } from 'zod';

/** Where an alert came from. */
export const AlertSource = z.enum(['alertmanager', 'generic', 'airflow', 'data_quality', 'reconcile']);
export type AlertSource = z.infer<typeof AlertSource>;

export const AlertStatus = z.enum(['firing', 'resolved']);
export type AlertStatus = z.infer<typeof AlertStatus>;

/**
 * One alert as the incident workflow sees it, whatever its source. JSON-plain so that it can travel as a
 * signal payload. `fingerprint` identifies the alert across firing and resolved notifications.
 */
export interface Alert {
  fingerprint: string;
  status: AlertStatus;
  source: AlertSource;
  /** The alert name (`alertname` label for Alertmanager). */
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339. */
  startsAt: string;
  /** RFC 3339; only for resolved alerts. */
  endsAt?: string;
  generatorURL?: string;
  /** Alertmanager group key or another source-side grouping id. */
  groupKey?: string;
  /** Present when size caps cut something from this alert (see `alert-bounds`). */
  truncation?: AlertTruncation;
}

/** What the size caps cut from one alert: the marker that it is not complete. */
export interface AlertTruncation {
  /** Labels dropped: key over the key cap, or beyond the count or total-size cap. */
  labelsDropped: number;
  /** Annotations dropped likewise (and a generator URL over its cap). */
  annotationsDropped: number;
  /** Values cut short, each ending with the `…[truncated N bytes]` marker. */
  valuesTruncated: number;
}

/**
 * Key of one delivery of an alert. Alertmanager re-sends whole groups and HA pairs duplicate them: two
 * deliveries with the same key carry no new information (`reference/external-apis.md` §1).
 */
export function deliveryKey(alert: Pick<Alert, 'groupKey' | 'fingerprint' | 'status' | 'startsAt'>): string {
  return `${alert.groupKey ?? ''}|${alert.fingerprint}|${alert.status}|${alert.startsAt}`;
}

/** Short text describing an alert for timelines and summaries. */
export function alertHeadline(alert: Pick<Alert, 'name' | 'annotations' | 'labels'>): string {
  return alert.annotations.summary ?? alert.annotations.description ?? alert.labels.summary ?? alert.name;
}

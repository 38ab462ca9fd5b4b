import { z } from 'zod';
import type { Alert } from './alert';

// Foreign payloads are parsed loosely: Alertmanager adds fields over time (e.g. `notification_reason`).
const StringMap = z.record(z.string(), z.string());
const Timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 timestamp');

export const AlertmanagerAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: StringMap,
  annotations: StringMap.default({}),
  startsAt: Timestamp,
  endsAt: Timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1),
});
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;

/** The Alertmanager webhook payload, version 4 (Alertmanager 0.25+). */
export const AlertmanagerWebhook = z.looseObject({
  version: z.literal('4', { error: 'must be "4" (Alertmanager webhook payload version 4)' }),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: StringMap.default({}),
  commonLabels: StringMap.default({}),
  commonAnnotations: StringMap.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(AlertmanagerAlert).min(1),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

const ZERO_TIME = /^0001-01-01T00:00:00/;

/** Converts a webhook payload to alerts; status is decided per alert, never by the top-level status. */
export function alertsFromWebhook(payload: AlertmanagerWebhook): Alert[] {
  return payload.alerts.map((a) => ({
    fingerprint: a.fingerprint,
    status: a.status,
    source: 'alertmanager' as const,
    name: a.labels.alertname ?? 'unnamed',
    labels: a.labels,
    annotations: a.annotations,
    startsAt: new Date(a.startsAt).toISOString(),
    ...(a.status === 'resolved' && a.endsAt && !ZERO_TIME.test(a.endsAt)
      ? { endsAt: new Date(a.endsAt).toISOString() }
      : {}),
    ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
    groupKey: payload.groupKey,
  }));
}

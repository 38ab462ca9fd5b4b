import { randomUUID } from 'node:crypto';
import type { AlertmanagerWebhook } from '../../src/domain/alertmanager';

export interface FakeAlert {
  fingerprint?: string;
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
}

/** A unique dedup key so tests sharing one Temporal server never join each other's incidents. */
export function uniqueKey(prefix = 'k'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** An Alertmanager v4 webhook payload shaped like Alertmanager 0.25 sends it. */
export function alertmanagerPayload(
  alerts: FakeAlert[],
  group: { groupKey?: string; labels?: Record<string, string> } = {},
): AlertmanagerWebhook & { alerts: unknown[] } {
  const common = group.labels ?? {};
  const built = alerts.map((a, i) => {
    const status = a.status ?? 'firing';
    return {
      status,
      labels: { alertname: 'TestAlert', ...common, ...a.labels },
      annotations: a.annotations ?? { summary: `test alert ${i}` },
      startsAt: a.startsAt ?? '2026-11-25T09:45:00Z',
      endsAt: a.endsAt ?? (status === 'resolved' ? '2026-11-25T10:00:00Z' : '0001-01-01T00:00:00Z'),
      generatorURL: 'http://prometheus.local:9090/graph',
      fingerprint: a.fingerprint ?? `fp${String(i).padStart(14, '0')}`,
    };
  });
  return {
    version: '4',
    groupKey: group.groupKey ?? `{}:{alertname="TestAlert", k="${randomUUID()}"}`,
    truncatedAlerts: 0,
    status: built.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'incidentflow',
    groupLabels: {},
    commonLabels: common,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.local:9093',
    alerts: built,
  };
}

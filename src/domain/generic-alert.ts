import { z } from 'zod';
import type { Alert } from './alert';

const Labels = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'label names must match [A-Za-z_][A-Za-z0-9_]*'),
  z.string(),
);
const Timestamp = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp' });

/**
 * `POST /api/v1/alerts` body item: a generic alert from an Airflow callback or a script. Strict: a typo in a
 * field name is a 400, not a silently ignored field.
 */
export const GenericAlert = z.strictObject({
  name: z.string().min(1).max(200),
  source: z.enum(['generic', 'airflow', 'data_quality']).default('generic'),
  status: z.enum(['firing', 'resolved']).default('firing'),
  severity: z.string().min(1).max(32).optional(),
  labels: Labels.default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  summary: z.string().max(1024).optional(),
  description: z.string().max(8192).optional(),
  dedup_key: z.string().min(1).max(200).optional(),
  fingerprint: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_.:-]')
    .optional(),
  starts_at: Timestamp.optional(),
  ends_at: Timestamp.optional(),
  url: z.string().url().optional(),
});
export type GenericAlert = z.infer<typeof GenericAlert>;

/** A batch of generic alerts (at most 500). The endpoint also takes a single alert object. */
export const GenericAlertBatch = z.strictObject({ alerts: z.array(GenericAlert).min(1).max(500) });
export type GenericAlertBatch = z.infer<typeof GenericAlertBatch>;

/** True when a request body is a batch (`{ alerts: [...] }`) rather than one alert. */
export function isGenericAlertBatch(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'alerts' in body;
}

/** FNV-1a 64-bit of a string, as 16 hex digits (the same width as Alertmanager fingerprints). */
export function fingerprintOf(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * Normalises a generic alert. Labels gain `alertname`, `severity` and `dedup_key` from the top-level
 * fields; without an explicit fingerprint one is derived from the name and the sorted labels, so the same
 * alert keeps its identity between firing and resolved.
 */
export function alertFromGeneric(a: GenericAlert, nowIso: string): Alert {
  const labels: Record<string, string> = { ...a.labels, alertname: a.name };
  if (a.severity) labels.severity = a.severity;
  if (a.dedup_key) labels.dedup_key = a.dedup_key;
  const identity = Object.entries(labels)
    .filter(([k]) => k !== 'severity')
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const annotations = { ...a.annotations };
  if (a.summary) annotations.summary = a.summary;
  if (a.description) annotations.description = a.description;
  const startsAt = a.starts_at ? new Date(a.starts_at).toISOString() : nowIso;
  return {
    fingerprint: a.fingerprint ?? fingerprintOf(identity),
    status: a.status,
    source: a.source,
    name: a.name,
    labels,
    annotations,
    startsAt,
    ...(a.status === 'resolved' ? { endsAt: a.ends_at ? new Date(a.ends_at).toISOString() : nowIso } : {}),
    ...(a.url ? { generatorURL: a.url } : {}),
    groupKey: `generic:${a.source}`,
  };
}

/** `POST /api/v1/events/deployments` body: a deployment marker used for correlation. */
export const DeploymentEvent = z.strictObject({
  service: z.string().min(1).max(200),
  version: z.string().min(1).max(200),
  time: Timestamp.optional(),
  description: z.string().max(2000).optional(),
  environment: z.string().max(100).optional(),
  source: z.string().max(100).optional(),
  url: z.string().url().optional(),
});
export type DeploymentEvent = z.infer<typeof DeploymentEvent>;

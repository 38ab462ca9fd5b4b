import { z } from 'zod';

/**
 * What the incident workflow reports for the engine metrics, in batches, through one local activity
 * (`recordIncidentMetrics`). Workflow code cannot touch prom-client, so it describes what happened and the
 * worker counts it. Label values are free strings here: the worker clips unknown ones to `other`.
 */
const Label = z.string().min(1).max(512);
const Seconds = z.number().nonnegative().max(1e9);

export const IncidentMetricEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('opened'), incidentType: Label, severity: Label, service: Label }),
  z.object({ kind: z.literal('acknowledged'), incidentType: Label, severity: Label, ttaSeconds: Seconds }),
  /** `level` is 1-based, as in escalation policies. */
  z.object({ kind: z.literal('escalated'), incidentType: Label, severity: Label, level: z.int().min(1) }),
  z.object({ kind: z.literal('paged'), channel: Label, outcome: z.enum(['sent', 'failed', 'skipped']) }),
  z.object({
    kind: z.literal('approval'),
    runbook: Label,
    decision: z.enum(['approve', 'reject', 'refused', 'timed_out']),
  }),
  z.object({
    kind: z.literal('step'),
    runbook: Label,
    step: Label,
    outcome: z.enum(['succeeded', 'failed', 'rejected', 'timed_out']),
  }),
  z.object({
    kind: z.literal('runbook'),
    runbook: Label,
    incidentType: Label,
    outcome: z.enum(['succeeded', 'failed', 'aborted', 'cancelled']),
  }),
  z.object({
    kind: z.literal('resolved'),
    incidentType: Label,
    severity: Label,
    service: Label,
    resolution: Label,
    ttrSeconds: Seconds,
    highestLevel: z.int().min(0),
  }),
]);
export type IncidentMetricEvent = z.infer<typeof IncidentMetricEvent>;

/** Every event kind, in declaration order. */
export const INCIDENT_METRIC_EVENT_KINDS = [
  'opened',
  'acknowledged',
  'escalated',
  'paged',
  'approval',
  'step',
  'runbook',
  'resolved',
] as const satisfies readonly IncidentMetricEvent['kind'][];
export type IncidentMetricEventKind = (typeof INCIDENT_METRIC_EVENT_KINDS)[number];

/** One event that failed validation, by the kind it claimed (`unknown` when it named none we know). */
export interface InvalidMetricEvent {
  kind: IncidentMetricEventKind | 'unknown';
  problem: string;
}

function claimedKind(value: unknown): IncidentMetricEventKind | 'unknown' {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return (INCIDENT_METRIC_EVENT_KINDS as readonly unknown[]).includes(kind)
    ? (kind as IncidentMetricEventKind)
    : 'unknown';
}

/**
 * Splits a batch (as received, untrusted) into valid events and problems. A batch that is not
 * `{ events: [...] }` is one invalid entry of kind `unknown`.
 */
export function parseIncidentMetricBatch(input: unknown): {
  events: IncidentMetricEvent[];
  invalid: InvalidMetricEvent[];
} {
  const list = (input as { events?: unknown } | null)?.events;
  if (!Array.isArray(list)) {
    return { events: [], invalid: [{ kind: 'unknown', problem: 'expected { events: [...] }' }] };
  }
  const events: IncidentMetricEvent[] = [];
  const invalid: InvalidMetricEvent[] = [];
  for (const item of list as unknown[]) {
    const parsed = IncidentMetricEvent.safeParse(item);
    if (parsed.success) events.push(parsed.data);
    else {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
      invalid.push({ kind: claimedKind(item), problem: `${where}${issue?.message ?? 'invalid'}` });
    }
  }
  return { events, invalid };
}

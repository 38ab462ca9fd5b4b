import { z } from 'zod';
import { DEFAULT_SEVERITY_ALIASES, parseSeverity, Severity } from './severity';
import { isValidTemplate, renderTemplate } from './template';

const Template = z
  .string()
  .min(1)
  .refine(isValidTemplate, 'is not a valid template (use e.g. "{{ dag_id }}")');
const LabelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a label name');
const Regex = z.string().refine((s) => {
  try {
    new RegExp(`^(?:${s})$`);
    return true;
  } catch {
    return false;
  }
}, 'is not a valid regular expression');

/** What a routing rule (or the defaults) decides; every field may be a label template. */
export const RouteFields = z.strictObject({
  incident_type: Template.optional(),
  severity: Template.optional(),
  service: Template.optional(),
  dedup_key: Template.optional(),
  runbook: Template.optional(),
  escalation_policy: Template.optional(),
  slack_channel: Template.optional(),
});
export type RouteFields = z.infer<typeof RouteFields>;

export const RoutingRule = z.strictObject({
  name: z.string().min(1),
  /** Labels that must equal these values. */
  match: z.record(LabelName, z.string()).default({}),
  /** Labels that must fully match these regular expressions (anchored, like Alertmanager). */
  match_re: z.record(LabelName, Regex).default({}),
  set: RouteFields,
});
export type RoutingRule = z.infer<typeof RoutingRule>;

/** `config/routing.yaml`: ordered rules (first match wins), then label conventions, then defaults. */
export const RoutingConfig = z
  .strictObject({
    severity_aliases: z.record(z.string(), Severity).default({}),
    defaults: z
      .strictObject({
        incident_type: Template.default('{{ incident_type | "generic" }}'),
        severity: Template.default('{{ severity | "P3" }}'),
        service: Template.default('{{ service | dag_id | job | "unknown" }}'),
        dedup_key: Template.default('{{ dedup_key | dedup | alertname }}'),
        runbook: Template.optional(),
        escalation_policy: Template.default('{{ escalation_policy | "default" }}'),
        slack_channel: Template.optional(),
      })
      .prefault({}),
    rules: z.array(RoutingRule).default([]),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.rules.forEach((rule, i) => {
      const first = seen.get(rule.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name "${rule.name}" (first at rules.${first})`,
        });
      } else seen.set(rule.name, i);
    });
  });
export type RoutingConfig = z.infer<typeof RoutingConfig>;

/** Where an alert goes: the incident it belongs to and how that incident is handled. */
export interface RouteDecision {
  /** Name of the rule that matched, or null when only conventions and defaults applied. */
  rule: string | null;
  incidentType: string;
  severity: Severity;
  service: string;
  dedupKey: string;
  runbook: string | null;
  escalationPolicy: string;
  slackChannel: string | null;
}

function matches(rule: RoutingRule, labels: Readonly<Record<string, string>>): boolean {
  for (const [name, value] of Object.entries(rule.match)) {
    if ((labels[name] ?? '') !== value) return false;
  }
  for (const [name, pattern] of Object.entries(rule.match_re)) {
    if (!new RegExp(`^(?:${pattern})$`).test(labels[name] ?? '')) return false;
  }
  return true;
}

const KEY_UNSAFE = /[^A-Za-z0-9_.:/@=-]+/g;

/** Normalises a service name or dedup key for use inside a workflow id. */
export function sanitizeKey(value: string): string {
  const cleaned = value.trim().replace(KEY_UNSAFE, '_').slice(0, 200);
  return cleaned === '' ? 'unknown' : cleaned;
}

/**
 * Routes an alert's labels to an incident. Precedence per field: the first matching rule's `set`, then the
 * defaults (whose templates read the label conventions `incident_type`, `severity`, `service`/`dag_id`,
 * `dedup_key`, `runbook`, `escalation_policy`). Pure and deterministic.
 */
export function routeAlert(labels: Readonly<Record<string, string>>, config: RoutingConfig): RouteDecision {
  const rule = config.rules.find((r) => matches(r, labels));
  const pick = (field: keyof RouteFields): string | undefined => {
    const fromRule = rule?.set[field];
    const rendered = fromRule === undefined ? undefined : renderTemplate(fromRule, labels);
    if (rendered !== undefined && rendered !== '') return rendered;
    const fallback = config.defaults[field];
    const value = fallback === undefined ? undefined : renderTemplate(fallback, labels);
    return value === '' ? undefined : value;
  };
  const aliases = { ...DEFAULT_SEVERITY_ALIASES, ...lowerKeys(config.severity_aliases) };
  const runbookLabel = labels.runbook;
  return {
    rule: rule?.name ?? null,
    incidentType: sanitizeKey(pick('incident_type') ?? 'generic'),
    severity: parseSeverity(pick('severity'), aliases) ?? parseSeverity(labels.severity, aliases) ?? 'P3',
    service: sanitizeKey(pick('service') ?? 'unknown'),
    dedupKey: sanitizeKey(pick('dedup_key') ?? labels.alertname ?? 'alert'),
    runbook: pick('runbook') ?? (runbookLabel && runbookLabel !== '' ? runbookLabel : null),
    escalationPolicy: pick('escalation_policy') ?? 'default',
    slackChannel: pick('slack_channel') ?? null,
  };
}

function lowerKeys(record: Readonly<Record<string, Severity>>): Record<string, Severity> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The deterministic Temporal workflow id of the incident for a route decision. */
export function incidentWorkflowId(decision: Pick<RouteDecision, 'service' | 'dedupKey'>): string {
  return `incident:${decision.service}:${decision.dedupKey}`;
}

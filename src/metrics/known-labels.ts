import type { AppConfig } from '../config/load-config';
import { Channel } from '../domain/escalation-policy';
import { renderTemplate } from '../domain/template';
import { Severity } from '../domain/severity';
import type { KnownEngineLabels } from './engine-metrics';

/**
 * The label values the configuration makes known, for {@link KnownEngineLabels}: incident types named by
 * routing (literal values, quoted template fallbacks such as `"generic"`, `match` values) and by runbooks'
 * `match.incident_types`; severities P1–P4; runbooks with their step ids; paging channels; the deepest
 * escalation level of any policy.
 */
export function knownEngineLabels(
  config: Pick<AppConfig, 'routing' | 'runbooks' | 'policies'>,
): KnownEngineLabels {
  const types = new Set<string>();
  const addTemplate = (template: string | undefined): void => {
    const rendered = template === undefined ? undefined : renderTemplate(template, {});
    if (rendered) types.add(rendered);
  };
  addTemplate(config.routing.defaults.incident_type);
  for (const rule of config.routing.rules) {
    addTemplate(rule.set.incident_type);
    const matched = rule.match.incident_type;
    if (matched) types.add(matched);
  }
  for (const runbook of Object.values(config.runbooks))
    for (const type of runbook.match.incident_types) types.add(type);

  return {
    incidentTypes: [...types].sort(),
    severities: [...Severity.options],
    runbooks: Object.fromEntries(
      Object.entries(config.runbooks)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, rb]) => [name, rb.steps.map((s) => s.id)]),
    ),
    channels: [...Channel.options],
    escalationLevels: Math.max(1, ...Object.values(config.policies.policies).map((p) => p.levels.length)),
  };
}

import { z } from 'zod';
import { CheckSet } from '../domain/data-quality';
import { EscalationPoliciesConfig } from '../domain/escalation-policy';
import { KubeAllowlist } from '../domain/kubernetes';
import { OncallConfig } from '../domain/oncall';
import { RoutingConfig } from '../domain/routing';
import { Runbook } from '../domain/runbook';

/**
 * Config file schemas exported as JSON Schema (`npm run schemas` writes `config/schemas/<name>.schema.json`)
 * for editor completion and validation. A unit test fails when a committed file is out of date.
 */
export const CONFIG_SCHEMAS: Record<string, z.ZodType> = {
  routing: RoutingConfig,
  runbook: Runbook,
  oncall: OncallConfig,
  'escalation-policies': EscalationPoliciesConfig,
  'check-set': CheckSet,
  kubernetes: KubeAllowlist,
};

/** JSON Schema of one config file, as written to `config/schemas/<name>.schema.json`. */
export function jsonSchemaFor(name: string): string {
  const schema = CONFIG_SCHEMAS[name];
  if (!schema) throw new Error(`unknown config schema ${name}`);
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...json, title: `incidentflow ${name} config` }, null, 2)}\n`;
}

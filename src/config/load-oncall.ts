import { join } from 'node:path';
import { checkPolicyReferences, EscalationPoliciesConfig } from '../domain/escalation-policy';
import { OncallConfig } from '../domain/oncall';
import { type ConfigProblem, displayPath, readYamlFile } from './yaml-file';

/** People, schedules and escalation policies, validated together. */
export interface OncallFiles {
  oncall: OncallConfig;
  policies: EscalationPoliciesConfig;
}

/**
 * Reads `oncall.yaml` and `escalation-policies.yaml` from the config directory, validates each, then
 * checks that the policies' targets exist in the on-call config and can be reached on their channels
 * (reported against `escalation-policies.yaml`). `value` is set only when there are no problems.
 */
export function loadOncall(dir: string): { value?: OncallFiles; problems: ConfigProblem[] } {
  const policiesFile = join(dir, 'escalation-policies.yaml');
  const oncall = readYamlFile(join(dir, 'oncall.yaml'), OncallConfig);
  const policies = readYamlFile(policiesFile, EscalationPoliciesConfig);
  const problems = [...oncall.problems, ...policies.problems];
  if (!oncall.value || !policies.value) return { problems };
  for (const p of checkPolicyReferences(policies.value, oncall.value)) {
    problems.push({ file: displayPath(policiesFile), ...p });
  }
  if (problems.length > 0) return { problems };
  return { value: { oncall: oncall.value, policies: policies.value }, problems };
}

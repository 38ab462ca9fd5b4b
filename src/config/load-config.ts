import { join } from 'node:path';
import type { CheckSet } from '../domain/data-quality';
import type { EscalationPoliciesConfig } from '../domain/escalation-policy';
import type { KubeAllowlist } from '../domain/kubernetes';
import type { OncallConfig } from '../domain/oncall';
import { RoutingConfig } from '../domain/routing';
import type { Runbook } from '../domain/runbook';
import { loadCheckSets } from './load-checks';
import { loadKubernetesConfig } from './load-kubernetes';
import { loadOncall } from './load-oncall';
import { checkRunbookReferences, loadRunbooks } from './load-runbooks';
import { ConfigError, type ConfigProblem, displayPath, readYamlFile } from './yaml-file';

/** Everything in the config directory, validated and cross-checked. */
export interface AppConfig {
  dir: string;
  routing: RoutingConfig;
  oncall: OncallConfig;
  policies: EscalationPoliciesConfig;
  runbooks: Record<string, Runbook>;
  /** Deployments kubectl may touch (`kubernetes.yaml`, optional: absent = none). */
  kubernetes: KubeAllowlist;
  /** Data-quality check sets (`checks/*.yaml`). */
  checks: Record<string, CheckSet>;
}

/** Literal (template-free) values a routing field can take, for cross-checks. */
function literalValues(
  routing: RoutingConfig,
  field: 'runbook' | 'escalation_policy',
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  routing.rules.forEach((rule, i) => {
    const value = rule.set[field];
    if (value !== undefined && !value.includes('{{')) out.push([`rules.${i}.set.${field}`, value]);
  });
  const fallback = routing.defaults[field];
  if (fallback !== undefined && !fallback.includes('{{')) out.push([`defaults.${field}`, fallback]);
  return out;
}

/**
 * Loads and validates every YAML file in the config directory, then checks references across files
 * (routing → runbooks and policies, runbook approvers → on-call roles and people). Collects all problems
 * and throws one {@link ConfigError} listing them, so an operator fixes everything in one pass.
 */
export function loadConfig(dir: string): AppConfig {
  const problems: ConfigProblem[] = [];
  const routingFile = join(dir, 'routing.yaml');
  const routing = readYamlFile(routingFile, RoutingConfig);
  const oncall = loadOncall(dir);
  const runbooks = loadRunbooks(dir);
  const kubernetes = loadKubernetesConfig(dir);
  const checks = loadCheckSets(dir);
  problems.push(
    ...routing.problems,
    ...oncall.problems,
    ...runbooks.problems,
    ...kubernetes.problems,
    ...checks.problems,
  );

  if (runbooks.value && oncall.value) {
    problems.push(
      ...checkRunbookReferences(runbooks.value, {
        roles: Object.keys(oncall.value.oncall.roles),
        people: Object.keys(oncall.value.oncall.people),
        dir,
      }),
    );
  }
  if (routing.value && runbooks.value) {
    for (const [path, name] of literalValues(routing.value, 'runbook')) {
      if (!(name in runbooks.value)) {
        problems.push({ file: displayPath(routingFile), path, message: `unknown runbook "${name}"` });
      }
    }
  }
  if (routing.value && oncall.value) {
    for (const [path, name] of literalValues(routing.value, 'escalation_policy')) {
      if (!(name in oncall.value.policies.policies)) {
        problems.push({
          file: displayPath(routingFile),
          path,
          message: `unknown escalation policy "${name}"`,
        });
      }
    }
  }
  if (
    problems.length > 0 ||
    !routing.value ||
    !oncall.value ||
    !runbooks.value ||
    !kubernetes.value ||
    !checks.value
  ) {
    throw new ConfigError(problems);
  }
  return {
    dir,
    routing: routing.value,
    oncall: oncall.value.oncall,
    policies: oncall.value.policies,
    runbooks: runbooks.value,
    kubernetes: kubernetes.value,
    checks: checks.value,
  };
}

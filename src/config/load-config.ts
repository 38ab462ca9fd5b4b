import { join } from 'node:path';
import { RoutingConfig } from '../domain/routing';
import { ConfigError, type ConfigProblem, readYamlFile } from './yaml-file';

/** Everything in the config directory, validated. */
export interface AppConfig {
  dir: string;
  routing: RoutingConfig;
}

/**
 * Loads and validates every YAML file in the config directory. Collects all problems across files and
 * throws one {@link ConfigError} listing them, so an operator fixes everything in one pass.
 */
export function loadConfig(dir: string): AppConfig {
  const problems: ConfigProblem[] = [];
  const routing = readYamlFile(join(dir, 'routing.yaml'), RoutingConfig);
  problems.push(...routing.problems);
  if (problems.length > 0 || !routing.value) throw new ConfigError(problems);
  return { dir, routing: routing.value };
}

import { join } from 'node:path';
import { KubeAllowlist } from '../domain/kubernetes';
import { type ConfigProblem, readYamlFile } from './yaml-file';

/** File name of the Kubernetes allowlist inside the config directory. */
export const KUBERNETES_CONFIG_FILE = 'kubernetes.yaml';

/**
 * Loads `<dir>/kubernetes.yaml` (the deployments incidentflow may act on). The file is optional: without it
 * nothing is allowed, so an installation without Kubernetes starts fine and every kubectl step is refused.
 */
export function loadKubernetesConfig(dir: string): { value?: KubeAllowlist; problems: ConfigProblem[] } {
  return readYamlFile(join(dir, KUBERNETES_CONFIG_FILE), KubeAllowlist, {
    optional: true,
    fallback: { namespaces: {} },
  });
}

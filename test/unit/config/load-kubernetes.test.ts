import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadKubernetesConfig } from '../../../src/config/load-kubernetes';
import { formatProblem, readYamlFile } from '../../../src/config/yaml-file';
import { allowlistRefusal, KubeAllowlist } from '../../../src/domain/kubernetes';

const fixtures = 'test/fixtures/kubernetes';

describe('config/kubernetes.yaml schema', () => {
  it.each([
    [
      'invalid.unknown-key.yaml',
      `${fixtures}/invalid.unknown-key.yaml:namespaces.data-platform: Unrecognized key: "replicas"`,
    ],
    ['invalid.top-level-key.yaml', `${fixtures}/invalid.top-level-key.yaml: Unrecognized key: "allow"`],
    [
      'invalid.namespace-name.yaml',
      `${fixtures}/invalid.namespace-name.yaml:namespaces.Data_Platform: namespace "Data_Platform" must be a DNS label (lower-case letters, digits and "-")`,
    ],
    [
      'invalid.deployment-name.yaml',
      `${fixtures}/invalid.deployment-name.yaml:namespaces.data-platform.deployments.0: must be a DNS subdomain name (lower-case letters, digits, "-" and ".")`,
    ],
    [
      'invalid.empty-list.yaml',
      `${fixtures}/invalid.empty-list.yaml:namespaces.data-platform.deployments: list at least one deployment, or use "*"`,
    ],
    [
      'invalid.not-a-list.yaml',
      `${fixtures}/invalid.not-a-list.yaml:namespaces.data-platform.deployments: must be "*" or a list of deployment names`,
    ],
    [
      'invalid.missing-deployments.yaml',
      `${fixtures}/invalid.missing-deployments.yaml:namespaces.data-platform.deployments: must be "*" or a list of deployment names`,
    ],
    [
      'invalid.duplicate-deployment.yaml',
      `${fixtures}/invalid.duplicate-deployment.yaml:namespaces.data-platform.deployments.1: duplicate deployment "airflow-workers"`,
    ],
  ])('rejects %s with one exact problem', (file, message) => {
    const { value, problems } = readYamlFile(`${fixtures}/${file}`, KubeAllowlist);
    expect(value).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual([message]);
  });

  it('accepts a list of deployments and "*" for a whole namespace', () => {
    const { value, problems } = readYamlFile(`${fixtures}/valid.wildcard.yaml`, KubeAllowlist);
    expect(problems).toEqual([]);
    expect(value).toEqual({
      namespaces: { 'data-platform': { deployments: ['airflow-workers'] }, sandbox: { deployments: '*' } },
    });
  });
});

describe('loadKubernetesConfig', () => {
  it('loads the shipped default, which allows the Airflow workers and scheduler in data-platform', () => {
    const { value, problems } = loadKubernetesConfig(resolve(__dirname, '../../../config'));
    expect(problems).toEqual([]);
    expect(value).toEqual({
      namespaces: { 'data-platform': { deployments: ['airflow-workers', 'airflow-scheduler'] } },
    });
  });

  it('allows nothing when the file is absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-config-'));
    try {
      expect(loadKubernetesConfig(dir)).toEqual({ value: { namespaces: {} }, problems: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('allowlistRefusal', () => {
  const allow: KubeAllowlist = {
    namespaces: { 'data-platform': { deployments: ['airflow-workers'] }, sandbox: { deployments: '*' } },
  };

  it.each([
    ['data-platform', 'airflow-workers', null],
    ['sandbox', 'anything', null],
    [
      'data-platform',
      'airflow-scheduler',
      'deployment "airflow-scheduler" in namespace "data-platform" is not in the Kubernetes allowlist',
    ],
    ['kube-system', 'coredns', 'namespace "kube-system" is not in the Kubernetes allowlist'],
  ])('answers %s/%s with %p', (namespace, deployment, expected) => {
    expect(allowlistRefusal(allow, namespace, deployment)).toBe(expected);
  });
});

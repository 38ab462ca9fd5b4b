import { z } from 'zod';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes namespace name (RFC 1123 DNS label). */
export const NamespaceName = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and "-")');

/** A Kubernetes Deployment name (RFC 1123 DNS subdomain). */
export const DeploymentName = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(DNS_SUBDOMAIN, 'must be a DNS subdomain name (lower-case letters, digits, "-" and ".")');

/** Deployments incidentflow may act on in one namespace: a list of names, or `'*'` for all of them. */
export const NamespaceAllowlist = z.strictObject({
  deployments: z.union(
    [
      z.literal('*'),
      z
        .array(DeploymentName)
        .min(1, 'list at least one deployment, or use "*"')
        .superRefine((names, ctx) => {
          names.forEach((name, i) => {
            if (names.indexOf(name) !== i) {
              ctx.addIssue({ code: 'custom', path: [i], message: `duplicate deployment "${name}"` });
            }
          });
        }),
    ],
    { error: 'must be "*" or a list of deployment names' },
  ),
});
export type NamespaceAllowlist = z.infer<typeof NamespaceAllowlist>;

/**
 * `config/kubernetes.yaml`: the only deployments incidentflow may roll back, restart or scale. Anything
 * not listed is refused before kubectl runs.
 */
export const KubeAllowlist = z
  .strictObject({
    namespaces: z.record(z.string(), NamespaceAllowlist).default({}),
  })
  .superRefine((cfg, ctx) => {
    for (const ns of Object.keys(cfg.namespaces)) {
      const parsed = NamespaceName.safeParse(ns);
      if (!parsed.success) {
        ctx.addIssue({
          code: 'custom',
          path: ['namespaces', ns],
          message: `namespace "${ns}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`,
        });
      }
    }
  });
export type KubeAllowlist = z.infer<typeof KubeAllowlist>;

/** Why `deployment` in `namespace` may not be touched, or null when the allowlist permits it. */
export function allowlistRefusal(allow: KubeAllowlist, namespace: string, deployment: string): string | null {
  const rule = allow.namespaces[namespace];
  if (!rule) return `namespace "${namespace}" is not in the Kubernetes allowlist`;
  if (rule.deployments === '*' || rule.deployments.includes(deployment)) return null;
  return `deployment "${deployment}" in namespace "${namespace}" is not in the Kubernetes allowlist`;
}

// --- Kubernetes objects as kubectl prints them with -o json (foreign payloads: loose) --------------

const StringMap = z.record(z.string(), z.string());

const OwnerReference = z.looseObject({
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
});

const ObjectMeta = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullish(),
  labels: StringMap.nullish(),
  annotations: StringMap.nullish(),
  ownerReferences: z.array(OwnerReference).nullish(),
});

const Container = z.looseObject({ name: z.string(), image: z.string().optional() });

/** A pod template (`spec.template`); unknown fields are kept so templates can be compared whole. */
export const PodTemplateSpec = z.looseObject({
  metadata: z.looseObject({ labels: StringMap.nullish(), annotations: StringMap.nullish() }).nullish(),
  spec: z.looseObject({ containers: z.array(Container), initContainers: z.array(Container).nullish() }),
});
export type PodTemplateSpec = z.infer<typeof PodTemplateSpec>;

export const LabelSelector = z.looseObject({
  matchLabels: StringMap.nullish(),
  matchExpressions: z
    .array(
      z.looseObject({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).nullish(),
      }),
    )
    .nullish(),
});
export type LabelSelector = z.infer<typeof LabelSelector>;

const Condition = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** An apps/v1 Deployment. */
export const Deployment = z.looseObject({
  metadata: ObjectMeta,
  spec: z.looseObject({
    replicas: z.number().int().optional(),
    selector: LabelSelector,
    template: PodTemplateSpec,
    paused: z.boolean().optional(),
  }),
  status: z
    .looseObject({
      observedGeneration: z.number().int().optional(),
      replicas: z.number().int().optional(),
      updatedReplicas: z.number().int().optional(),
      readyReplicas: z.number().int().optional(),
      availableReplicas: z.number().int().optional(),
      conditions: z.array(Condition).nullish(),
    })
    .optional(),
});
export type Deployment = z.infer<typeof Deployment>;

/** An apps/v1 ReplicaSet. */
export const ReplicaSet = z.looseObject({
  metadata: ObjectMeta,
  spec: z.looseObject({ replicas: z.number().int().optional(), template: PodTemplateSpec }),
});
export type ReplicaSet = z.infer<typeof ReplicaSet>;

/** `kubectl get … -o json` of several objects. */
export const ReplicaSetList = z.looseObject({ items: z.array(ReplicaSet) });
export type ReplicaSetList = z.infer<typeof ReplicaSetList>;

/** The `-l` argument selecting what a label selector selects (matchLabels and matchExpressions). */
export function labelSelectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

// The Kubernetes manifests as the tests see them: the rendered overlays (k8s/rendered/*.yaml,
// written by scripts/render-k8s.sh), kustomize where it can be run here, and schema
// validation with the kubernetes-models family (Kubernetes, prometheus-operator, KEDA).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';

export const ROOT = new URL('../../', import.meta.url);
export const OVERLAYS = ['dev', 'production'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** A manifest as parsed from YAML: only the fields the checks read are typed. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
}

export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: {
    name: string;
    emptyDir?: unknown;
    secret?: { secretName: string; items?: { key: string; path: string }[] };
    configMap?: { name: string };
  }[];
  topologySpreadConstraints?: { topologyKey: string }[];
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

/** Validates one manifest against its schema; returns the problems (none when valid). */
export function schemaProblems(m: Manifest): string[] {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) return [`${m.apiVersion} ${m.kind} has no schema here: add its model to MODELS`];
  try {
    new Model(m as never).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

export function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Manifest | null;
    return value ? [value] : [];
  });
}

export function readText(path: string): string {
  return readFileSync(new URL(path, ROOT), 'utf8');
}

/** The committed rendering of an overlay (scripts/render-k8s.sh). */
export function rendered(overlay: Overlay): Manifest[] {
  const path = `k8s/rendered/${overlay}.yaml`;
  return parseManifests(readText(path), path);
}

/** `kustomize build` (or `kubectl kustomize`) of an overlay, when either can run here. */
export function kustomize(dir: string): { manifests: Manifest[] } | { unavailable: string } {
  for (const cmd of [
    ['kustomize', 'build'],
    ['kubectl', 'kustomize'],
  ] as const) {
    const run = spawnSync(cmd[0], [cmd[1], dir], {
      cwd: new URL('.', ROOT),
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.error) continue;
    if (run.status !== 0) throw new Error(`${cmd.join(' ')} ${dir} failed: ${run.stderr}`);
    return { manifests: parseManifests(run.stdout, dir) };
  }
  return { unavailable: 'neither kustomize nor kubectl is on the PATH' };
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** The pod spec of a Deployment, StatefulSet or Job. */
export function podSpec(m: Manifest): PodSpec {
  return (m.spec as { template: { spec: PodSpec } }).template.spec;
}

export function podLabels(m: Manifest): Record<string, string> {
  return (
    (m.spec as { template: { metadata?: { labels?: Record<string, string> } } }).template.metadata?.labels ??
    {}
  );
}

export const WORKLOADS = ['Deployment', 'StatefulSet', 'Job'];

/** What each Secret key the workloads read holds in the tests (the operator creates the Secrets,
 * docs/operations.md): a valid value of its kind, `<secret>/<key>`. */
export const SECRET_SAMPLES: Record<string, string> = {
  'cairn-write-keys/CAIRN_WRITE_KEYS': 'k8s-test-key:web',
  'cairn-admin-tokens/CAIRN_ADMIN_TOKENS':
    'ops:write:k8s-test-admin-write-token,dashboard:read:k8s-test-admin-read-token',
};

/** Each container's environment as the process sees it: ConfigMaps it loads, then its own values
 * (a value from a Secret reads as its SECRET_SAMPLES entry; one without an entry throws). */
export function environment(manifests: Manifest[], c: Container, hostname: string): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: hostname };
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find(manifests, 'ConfigMap', from.configMapRef.name).data);
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const value = ref ? SECRET_SAMPLES[`${ref.name}/${ref.key}`] : e.value;
    if (value === undefined)
      throw new Error(
        `${c.name}: ${e.name} has no value${ref ? ` (add ${ref.name}/${ref.key} to SECRET_SAMPLES)` : ''}`,
      );
    env[e.name] = value;
  }
  return env;
}

/* eslint-disable @typescript-eslint/require-await */
// Every manifest of every overlay (k8s/), offline: valid against the Kubernetes,
// prometheus-operator and KEDA schemas, up to date with kustomize, and consistent with Cairn's
// own configuration — the partition count, the replica counts and the ordinal scheme, ports and
// probes, drain times, security settings. docs/operations.md describes what is checked.
import { existsSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';

import t from 'tap';
import { parse } from 'yaml';

import { INGEST_DURABLE } from '../../../services/ingest/index.js';
import { STREAMS } from '../../../libs/bus/index.js';
import { loadConfig, ownedPartitions, parseDurationMs, SETTINGS } from '../../../libs/config/index.js';
import { parseJourney } from '../../../libs/journey/index.js';
import {
  environment,
  find,
  kustomize,
  OVERLAYS,
  parseManifests,
  podLabels,
  podSpec,
  readText,
  rendered,
  ROOT,
  schemaProblems,
  SECRET_SAMPLES,
  WORKLOADS,
  type Container,
  type Manifest,
} from '../../helpers/k8s-manifests.js';

const CAIRN_CONTAINERS = new Set(['ingest', 'matcher', 'timer', 'sender', 'admin', 'cairn']);

function workloads(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => WORKLOADS.includes(m.kind));
}

function containers(m: Manifest): Container[] {
  return podSpec(m).containers;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function config(manifests: Manifest[]): Record<string, string> {
  return find(manifests, 'ConfigMap', 'cairn-config').data ?? {};
}

void t.test('the rendered overlays are what kustomize builds from k8s/', async (t) => {
  for (const overlay of OVERLAYS) {
    const built = kustomize(`k8s/overlays/${overlay}`);
    if ('unavailable' in built) {
      t.comment(
        `${overlay}: not re-rendered (${built.unavailable}); k8s/rendered/${overlay}.yaml is checked as committed`,
      );
      continue;
    }
    t.same(
      rendered(overlay),
      built.manifests,
      `k8s/rendered/${overlay}.yaml is current (run scripts/render-k8s.sh)`,
    );
  }
  const component = kustomize('k8s/components/keda');
  if ('unavailable' in component) return;
  t.ok(component.manifests.length > 0, 'the KEDA component builds');
});

void t.test('every manifest is valid against its schema', async (t) => {
  const sources: [string, Manifest[]][] = OVERLAYS.map((o) => [`k8s/rendered/${o}.yaml`, rendered(o)]);
  const keda = 'k8s/components/keda/ingest-scaledobject.yaml';
  sources.push([keda, parseManifests(readText(keda), keda)]);
  for (const [source, manifests] of sources) {
    t.ok(manifests.length > 0, `${source} has manifests`);
    for (const m of manifests) t.same(schemaProblems(m), [], `${source}: ${m.kind} ${m.metadata.name}`);
  }
});

void t.test('a schema problem is reported (the validation can fail)', async (t) => {
  const ingest = structuredClone(find(rendered('production'), 'Deployment', 'cairn-ingest'));
  (podSpec(ingest).containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'http';
  t.match(schemaProblems(ingest).join(), /containerPort must be integer/);
  t.match(schemaProblems({ apiVersion: 'v9', kind: 'Nope', metadata: { name: 'x' } }).join(), /no schema/);
});

for (const overlay of OVERLAYS) {
  void t.test(`${overlay}: partitions, replicas and ordinals agree`, async (t) => {
    const manifests = rendered(overlay);
    const shared = config(manifests);
    const partitions = Number(shared['CAIRN_PARTITIONS']);
    t.ok(partitions >= 1, 'CAIRN_PARTITIONS is set once, in cairn-config');
    for (const w of workloads(manifests)) {
      for (const c of containers(w)) {
        t.ok(
          c.envFrom?.some((e) => e.configMapRef?.name === 'cairn-config'),
          `${w.metadata.name}/${c.name} loads cairn-config`,
        );
        t.notOk(
          c.env?.some((e) => e.name === 'CAIRN_PARTITIONS' || e.name === 'CAIRN_ORDINAL'),
          `${w.metadata.name}/${c.name} sets neither CAIRN_PARTITIONS nor CAIRN_ORDINAL itself`,
        );
      }
    }
    for (const name of ['cairn-matcher', 'cairn-timer', 'cairn-sender']) {
      const sts = find(manifests, 'StatefulSet', name);
      const replicas = (sts.spec as { replicas: number }).replicas;
      const [c] = containers(sts);
      const instances = c!.env?.find((e) => e.name === 'CAIRN_INSTANCES')?.value;
      t.equal(Number(instances), replicas, `${name}: CAIRN_INSTANCES = spec.replicas (${replicas})`);
      t.ok(replicas <= partitions, `${name}: no more replicas than partitions`);
      // Each pod's configuration, parsed by Cairn itself from its pod name: ordinal i of N owns
      // {p : p mod N == i}; together they own every partition exactly once.
      const owners = new Map<number, number>();
      for (let i = 0; i < replicas; i++) {
        const parsed = loadConfig(environment(manifests, c!, `${name}-${i}`));
        t.equal(parsed.ordinal, i, `${name}-${i} is ordinal ${i}`);
        for (const p of ownedPartitions(parsed)) {
          t.notOk(owners.has(p), `partition ${p} has one owner in ${name}`);
          owners.set(p, i);
        }
      }
      t.equal(owners.size, partitions, `${name}: every partition has an owner`);
    }
    // The single-replica stage runs with its default N = 1: every partition.
    const ingest = find(manifests, 'Deployment', 'cairn-ingest');
    t.equal((ingest.spec as { replicas: number }).replicas, 1, 'ingest runs as one replica');
    t.equal(
      (ingest.spec as { strategy: { type: string } }).strategy.type,
      'Recreate',
      'two ingests never overlap',
    );
    const parsed = loadConfig(environment(manifests, containers(ingest)[0]!, 'cairn-ingest-7d9f-abcde'));
    t.equal(ownedPartitions(parsed).length, partitions);
  });

  void t.test(`${overlay}: ports, probes and Services agree`, async (t) => {
    const manifests = rendered(overlay);
    const shared = config(manifests);
    const pods = workloads(manifests).filter((w) => w.kind !== 'Job');
    for (const w of pods) {
      for (const c of containers(w)) {
        const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
        t.equal(
          ports.get('metrics'),
          Number(shared['CAIRN_METRICS_PORT']),
          `${w.metadata.name}: metrics port`,
        );
        if (c.name === 'ingest')
          t.equal(ports.get('http'), Number(shared['CAIRN_HTTP_PORT']), 'ingest: http port');
        if (c.name === 'admin') {
          // The port and address the admin service listens on, as Cairn parses its environment.
          const parsed = loadConfig(environment(manifests, c, `${w.metadata.name}-0`));
          t.equal(ports.get('http'), parsed.adminPort, 'admin: http port = CAIRN_ADMIN_PORT');
          t.ok(
            isIP(parsed.adminHost) !== 0 && !/^(127\.|::1$)/.test(parsed.adminHost),
            `admin: CAIRN_ADMIN_HOST ${parsed.adminHost} is not loopback (the Service reaches it)`,
          );
        }
        t.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${w.metadata.name}: readiness on /readyz`);
        t.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${w.metadata.name}: liveness on /healthz`);
        t.equal(c.startupProbe?.httpGet?.path, '/healthz', `${w.metadata.name}: startup on /healthz`);
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe])
          t.equal(probe?.httpGet?.port, 'metrics', `${w.metadata.name}: probes on the metrics port`);
      }
    }
    for (const svc of manifests.filter((m) => m.kind === 'Service')) {
      const spec = svc.spec as {
        selector: Record<string, string>;
        ports: { name: string; targetPort: string }[];
      };
      const selected = pods.filter((w) => matches(spec.selector, podLabels(w)));
      t.equal(selected.length, 1, `Service ${svc.metadata.name} selects one workload`);
      const names = new Set(
        selected.flatMap((w) =>
          containers(w)
            .flatMap((c) => c.ports ?? [])
            .map((p) => p.name),
        ),
      );
      for (const p of spec.ports)
        t.ok(names.has(p.targetPort), `${svc.metadata.name}: port ${p.targetPort} exists`);
    }
    const monitor = find(manifests, 'ServiceMonitor', 'cairn').spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string }[];
    };
    const scraped = manifests.filter(
      (m) => m.kind === 'Service' && matches(monitor.selector.matchLabels, m.metadata.labels ?? {}),
    );
    t.same(scraped.map((s) => s.metadata.name).sort(), [
      'cairn-admin',
      'cairn-ingest',
      'cairn-matcher',
      'cairn-sender',
      'cairn-timer',
    ]);
    for (const s of scraped) {
      const ports = (s.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
      t.ok(ports.includes(monitor.endpoints[0]!.port), `${s.metadata.name} is scraped on its metrics port`);
    }
  });

  void t.test(`${overlay}: drain time, security context, resources, budgets`, async (t) => {
    const manifests = rendered(overlay);
    const graceMs = parseDurationMs(config(manifests)['CAIRN_SHUTDOWN_GRACE'] ?? '10s')!;
    for (const w of workloads(manifests)) {
      const spec = podSpec(w);
      const name = w.metadata.name;
      t.equal(spec.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
      t.not(spec.securityContext?.runAsUser, 0, `${name}: not uid 0`);
      const tmp = spec.volumes?.find((v) => v.emptyDir !== undefined);
      for (const c of spec.containers) {
        t.ok(CAIRN_CONTAINERS.has(c.name), `${name}: container ${c.name}`);
        t.equal(
          c.image?.split(':')[0]?.split('/').pop()?.startsWith('cairn'),
          true,
          `${name}: the Cairn image`,
        );
        t.equal(c.securityContext?.readOnlyRootFilesystem, true, `${name}: read-only root filesystem`);
        t.equal(c.securityContext?.allowPrivilegeEscalation, false, `${name}: no privilege escalation`);
        t.same(c.securityContext?.capabilities?.drop, ['ALL'], `${name}: every capability dropped`);
        t.ok(
          c.volumeMounts?.some((m) => m.mountPath === '/tmp' && m.name === tmp?.name),
          `${name}: /tmp is an emptyDir`,
        );
        for (const kind of ['requests', 'limits'] as const)
          for (const r of ['cpu', 'memory']) t.ok(c.resources?.[kind]?.[r], `${name}: ${kind}.${r}`);
        // The NATS seed it is given is the one its Secret volume holds.
        const nkey = c.env?.find((e) => e.name === 'NATS_NKEY')?.value ?? '';
        const mount = c.volumeMounts?.find((m) => nkey.startsWith(`${m.mountPath}/`));
        const volume = spec.volumes?.find((v) => v.name === mount?.name);
        t.ok(
          volume?.secret?.items?.some((i) => `${mount!.mountPath}/${i.path}` === nkey),
          `${name}: NATS_NKEY ${nkey} is mounted from its Secret`,
        );
        if (w.kind === 'Job') continue;
        const preStop = c.lifecycle?.preStop?.exec?.command;
        const pauseMs = preStop?.[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
        t.ok(
          (spec.terminationGracePeriodSeconds ?? 30) * 1000 >= graceMs + pauseMs + 10_000,
          `${name}: terminationGracePeriodSeconds covers preStop + CAIRN_SHUTDOWN_GRACE + 10 s to close`,
        );
      }
      if (w.kind === 'Job') continue;
      const budgets = manifests.filter(
        (m) =>
          m.kind === 'PodDisruptionBudget' &&
          matches(
            (m.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
            podLabels(w),
          ),
      );
      t.equal(budgets.length, 1, `${name}: one PodDisruptionBudget`);
      t.equal(
        (budgets[0]?.spec as { maxUnavailable?: number }).maxUnavailable,
        1,
        `${name}: maxUnavailable 1`,
      );
    }
  });

  void t.test(`${overlay}: each process's environment is a valid Cairn configuration`, async (t) => {
    const manifests = rendered(overlay);
    const known = new Set(SETTINGS.map((s) => s.variable));
    for (const name of Object.keys(config(manifests)))
      t.ok(known.has(name), `cairn-config: ${name} is a setting of libs/config`);
    for (const w of workloads(manifests)) {
      for (const c of containers(w)) {
        for (const e of c.env ?? [])
          t.ok(known.has(e.name), `${w.metadata.name}: ${e.name} is a setting of libs/config`);
        t.doesNotThrow(() => loadConfig(environment(manifests, c, `${w.metadata.name}-0`)), w.metadata.name);
        // The entry point the command names exists in the sources the image compiles.
        const entry = [...(c.args ?? []), ...(c.command ?? [])].join(' ');
        for (const m of entry.matchAll(/dist\/services\/([a-z]+)\/main\.js/g))
          t.ok(
            existsSync(new URL(`services/${m[1]}/main.ts`, ROOT)),
            `${w.metadata.name}: services/${m[1]}/main.ts`,
          );
        if (w.kind === 'Job') t.match(entry, /bin\/cairn\.js journey publish/, 'the Job publishes journeys');
      }
    }
  });

  void t.test(`${overlay}: network policy, journeys, rules`, async (t) => {
    const manifests = rendered(overlay);
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
    const deny = policies.find((p) => (p.spec as { ingress?: unknown }).ingress === undefined);
    t.ok(deny, 'a policy denies all inbound traffic by default');
    const allowed = policies.flatMap((p) =>
      ((p.spec as { ingress?: { ports: { port: string }[] }[] }).ingress ?? []).flatMap((i) =>
        i.ports.map(
          (port) => `${JSON.stringify((p.spec as { podSelector: unknown }).podSelector)} ${port.port}`,
        ),
      ),
    );
    t.same(allowed.sort(), [
      '{"matchLabels":{"app.kubernetes.io/name":"cairn-admin"}} http',
      '{"matchLabels":{"app.kubernetes.io/name":"cairn-ingest"}} http',
      '{"matchLabels":{"app.kubernetes.io/part-of":"cairn"}} metrics',
    ]);
    // Only ingest's HTTP port is open to every source: the admin API's only to chosen ones.
    for (const p of policies) {
      const selector = JSON.stringify((p.spec as { podSelector: unknown }).podSelector);
      for (const rule of (p.spec as { ingress?: { from?: unknown[] }[] }).ingress ?? [])
        if (!selector.includes('cairn-ingest'))
          t.ok((rule.from ?? []).length > 0, `${p.metadata.name}: inbound from chosen sources only`);
    }

    // The journeys the Job publishes: the ConfigMap its pod mounts, each file a valid journey.
    const job = find(manifests, 'Job', 'cairn-publish');
    const cmName = podSpec(job).volumes?.find((v) => v.name === 'journeys')?.configMap?.name ?? '';
    t.match(cmName, /^cairn-journeys-[a-z0-9]{10}$/, 'the Job mounts the hash-named journeys ConfigMap');
    const journeys = find(manifests, 'ConfigMap', cmName).data ?? {};
    t.ok(Object.keys(journeys).length > 0, 'journeys to publish');
    for (const [file, text] of Object.entries(journeys)) {
      const result = parseJourney(text);
      t.ok(result.ok, `${file} is a valid journey: ${JSON.stringify(result.ok ? [] : result.errors)}`);
    }

    // The PrometheusRule carries exactly the rules of deploy/prometheus/cairn-rules.yaml.
    const rule = find(manifests, 'PrometheusRule', 'cairn').spec as { groups: unknown[] };
    const source = new URL('deploy/prometheus/cairn-rules.yaml', ROOT);
    const groups = existsSync(source)
      ? ((parse(readText('deploy/prometheus/cairn-rules.yaml')) as { groups: unknown[] }).groups ?? [])
      : [];
    t.same(
      rule.groups,
      groups,
      'PrometheusRule = deploy/prometheus/cairn-rules.yaml (run scripts/sync-prometheus-rule.mjs)',
    );
  });
}

void t.test(
  'every Secret key the workloads read is in the Secrets table of docs/operations.md',
  async (t) => {
    // The operator creates the Secrets from that table: `| \`name\` | keys | used by |`.
    const table = new Map<string, string>();
    for (const m of readText('docs/operations.md').matchAll(/^\s*\| `(cairn-[a-z-]+)` \| ([^|]+) \|/gm))
      table.set(m[1]!, m[2]!);
    for (const overlay of OVERLAYS) {
      for (const w of workloads(rendered(overlay))) {
        const spec = podSpec(w);
        const refs: [string, string | undefined][] = [];
        for (const c of spec.containers)
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef;
            if (!ref) continue;
            refs.push([ref.name, ref.key]);
            t.ok(SECRET_SAMPLES[`${ref.name}/${ref.key}`], `${ref.name}/${ref.key} has a test value`);
          }
        for (const v of spec.volumes ?? []) {
          if (!v.secret) continue;
          if (v.secret.items) for (const i of v.secret.items) refs.push([v.secret.secretName, i.key]);
          else refs.push([v.secret.secretName, undefined]);
        }
        for (const [secret, key] of refs) {
          const keys = table.get(secret);
          t.ok(keys, `${overlay} ${w.metadata.name}: Secret ${secret} is in the table`);
          if (key !== undefined)
            t.match(keys ?? '', `\`${key}\``, `${w.metadata.name}: ${secret} key ${key}`);
        }
      }
    }
  },
);

void t.test('the overlays differ where they should', async (t) => {
  const dev = rendered('dev');
  const prod = rendered('production');
  t.equal(config(dev)['CAIRN_REPLICAS'], '1', 'dev: streams and buckets at R1');
  t.equal(config(prod)['CAIRN_REPLICAS'], '3', 'production: streams and buckets at R3');
  t.equal(config(dev)['CAIRN_PARTITIONS'], config(prod)['CAIRN_PARTITIONS'], 'one partition count');
  for (const w of workloads(prod).filter((m) => m.kind !== 'Job')) {
    const keys = (podSpec(w).topologySpreadConstraints ?? []).map((c) => c.topologyKey).sort();
    t.same(
      keys,
      ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'],
      `${w.metadata.name}: spread over zones and nodes`,
    );
  }
  for (const [kind, name] of [
    ['StatefulSet', 'cairn-matcher'],
    ['StatefulSet', 'cairn-sender'],
    ['Deployment', 'cairn-admin'],
  ] as const) {
    const replicas = (m: Manifest[]): number => (find(m, kind, name).spec as { replicas: number }).replicas;
    t.ok(replicas(prod) > replicas(dev), `${name}: more replicas in production`);
  }
});

void t.test('the KEDA ScaledObject scales ingest on the lag of its consumer', async (t) => {
  const path = 'k8s/components/keda/ingest-scaledobject.yaml';
  const [scaled] = parseManifests(readText(path), path);
  const spec = scaled!.spec as {
    scaleTargetRef: { kind: string; name: string };
    triggers: { type: string; metadata: Record<string, string> }[];
  };
  const target = find(rendered('production'), spec.scaleTargetRef.kind, spec.scaleTargetRef.name);
  t.equal(target.kind, 'Deployment');
  const [trigger] = spec.triggers;
  t.equal(trigger?.type, 'nats-jetstream');
  t.equal(trigger?.metadata['stream'], STREAMS.EVENTS, 'the stream ingest consumes');
  t.equal(trigger?.metadata['consumer'], INGEST_DURABLE, "ingest's durable consumer");
  // Not in an overlay while ingest must run as one replica (services/ingest/README.md).
  for (const overlay of readdirSync(new URL('k8s/overlays/', ROOT)))
    t.notMatch(readText(`k8s/overlays/${overlay}/kustomization.yaml`), /components\/keda/, overlay);
});

void t.test('the base journeys are the examples', async (t) => {
  for (const file of readdirSync(new URL('k8s/base/journeys/', ROOT)))
    t.equal(readText(`k8s/base/journeys/${file}`), readText(`examples/journeys/${file}`), file);
});

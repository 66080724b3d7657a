/* eslint-disable @typescript-eslint/require-await */
// deploy/nats/values.yaml (the official NATS Helm chart): a 3-node JetStream cluster with
// persistent volumes, spread over zones, fsync before ack, and Cairn's authorization included
// from a mounted ConfigMap — that include laid out as the chart lays it out (/etc/nats-config),
// checked by a real nats-server.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';
import { parse } from 'yaml';

import { writeCredentials } from '../../../services/cli/auth.js';
import { find, readText, rendered } from '../../helpers/k8s-manifests.js';

interface Patch {
  op: string;
  path: string;
  value: {
    name: string;
    mountPath?: string;
    configMap?: { name: string };
  };
}

interface Values {
  config: {
    cluster: { enabled: boolean; replicas: number };
    jetstream: {
      enabled: boolean;
      fileStore: { enabled: boolean; pvc: { enabled: boolean; size: string } };
      merge: Record<string, string>;
    };
    monitor: { enabled: boolean; port: number };
    merge: Record<string, string>;
  };
  container: { patch: Patch[]; resources: { requests: unknown; limits: unknown } };
  podTemplate: { patch: Patch[]; topologySpreadConstraints: Record<string, { whenUnsatisfiable: string }> };
}

const text = readText('deploy/nats/values.yaml');
const values = parse(text) as Values;
/** Where the chart mounts nats.conf; includes are relative to it. */
const CHART_CONFIG_DIR = '/etc/nats-config';

void t.test('a 3-node JetStream cluster on persistent volumes, one server per zone', async (t) => {
  t.same(values.config.cluster, { enabled: true, replicas: 3 });
  t.equal(values.config.jetstream.enabled, true);
  t.equal(values.config.jetstream.fileStore.pvc.enabled, true, 'file store on a PVC');
  t.equal(values.config.jetstream.merge['sync_interval'], 'always', 'fsync before every ack (2.10+)');
  t.same(Object.keys(values.podTemplate.topologySpreadConstraints).sort(), [
    'kubernetes.io/hostname',
    'topology.kubernetes.io/zone',
  ]);
  for (const c of Object.values(values.podTemplate.topologySpreadConstraints))
    t.equal(c.whenUnsatisfiable, 'DoNotSchedule', 'a hard spread: two replicas never share a zone');
  t.same(values.container.resources.requests, values.container.resources.limits, 'Guaranteed QoS');
  // Cairn's streams and buckets at R3 on the 3 servers (k8s/overlays/production).
  const cairn = find(rendered('production'), 'ConfigMap', 'cairn-config').data ?? {};
  t.equal(Number(cairn['CAIRN_REPLICAS']), values.config.cluster.replicas, 'CAIRN_REPLICAS = cluster size');
  t.match(cairn['NATS_URL'] ?? '', /^nats:\/\/nats\.nats\.svc/, 'the release `nats` in namespace `nats`');
  const keda = readText('k8s/components/keda/ingest-scaledobject.yaml');
  t.match(keda, new RegExp(`nats-headless\\.nats\\.svc\\.cluster\\.local:${values.config.monitor.port}`));
});

void t.test("Cairn's authorization is included from the mounted ConfigMap", async (t) => {
  const include = values.config.merge['$include'] ?? '';
  const mount = values.container.patch.find((p) => p.path === '/volumeMounts/-')?.value;
  const volume = values.podTemplate.patch.find((p) => p.path === '/spec/volumes/-')?.value;
  t.equal(mount?.name, volume?.name, 'the mount is the patched volume');
  t.equal(volume?.configMap?.name, 'cairn-nats-auth');
  t.match(
    text,
    /create configmap cairn-nats-auth \\\n#\s+--from-file=auth\.conf=deploy\/nats\/auth\.conf --from-file=keys\.conf=/,
    'the ConfigMap is made from deploy/nats/auth.conf and keys.conf',
  );
  t.equal(
    join(CHART_CONFIG_DIR, include),
    join(mount?.mountPath ?? '', 'auth.conf'),
    'the include names the mounted auth.conf',
  );
  t.match(
    readText('deploy/nats/auth.conf'),
    /^include \.\/keys\.conf$/m,
    'auth.conf includes keys.conf beside it',
  );

  // The same layout under a temporary root, read by a real nats-server (`-t`: check the
  // configuration and exit). The jetstream settings of 2.10+ are left out: Debian's 2.9.10 refuses
  // sync_interval as an unknown field.
  const root = mkdtempSync(join(tmpdir(), 'cairn-nats-values-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const seeds = join(root, 'seeds');
  await writeCredentials(seeds);
  const configDir = join(root, CHART_CONFIG_DIR);
  const authDir = join(root, mount?.mountPath ?? '');
  mkdirSync(authDir, { recursive: true });
  writeFileSync(join(authDir, 'auth.conf'), readText('deploy/nats/auth.conf'));
  writeFileSync(join(authDir, 'keys.conf'), readFileSync(join(seeds, 'keys.conf'), 'utf8'));
  const conf = join(configDir, 'nats.conf');
  writeFileSync(conf, `port: -1\njetstream { store_dir: "${join(root, 'js')}" }\ninclude ${include}\n`);
  const check = spawnSync('nats-server', ['-t', '-c', conf], { encoding: 'utf8', timeout: 30_000 });
  t.notOk(check.error, 'nats-server is on the PATH');
  t.equal(check.status, 0, `nats-server accepts it: ${check.stderr}${check.stdout}`);
  t.match(`${check.stderr}${check.stdout}`, /is valid/);
});

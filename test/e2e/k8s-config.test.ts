// The dev overlay's configuration runs the pipeline: each service started as its own process with
// the environment its rendered manifest gives it (ConfigMap cairn-config, its own env, its own
// NATS seed, its Secrets' values as SECRET_SAMPLES), the publish Job's script run as the Job runs
// it, against a nats-server locked down with the shipped authorization; the admin API answers
// with the tokens of its Secret. Only what a cluster provides is replaced: the NATS URL, the
// mount paths of Secrets and ConfigMaps, free ports, and loopback egress for the local sink.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { connectBus, inboxPrefixOf, STREAMS, subjects } from '../../libs/bus/index.js';
import { writeCredentials } from '../../services/cli/auth.js';
import { silentLogger } from '../helpers/bus.js';
import {
  environment,
  find,
  podSpec,
  rendered,
  SECRET_SAMPLES,
  type Manifest,
} from '../helpers/k8s-manifests.js';
import { startHttpSink } from '../helpers/http-sink.js';
import { freePort, withNats } from '../helpers/nats-server.js';
import { REPO, spawnService, type ServiceName } from './processes.js';

const SERVICES: [ServiceName, string, string][] = [
  ['ingest', 'Deployment', 'cairn-ingest'],
  ['matcher', 'StatefulSet', 'cairn-matcher'],
  ['timer', 'StatefulSet', 'cairn-timer'],
  ['sender', 'StatefulSet', 'cairn-sender'],
  ['admin', 'Deployment', 'cairn-admin'],
];

void t.test(
  'the dev overlay configuration: publish Job, five services, an event delivered, the admin API, a clean drain',
  async (t) => {
    const manifests = rendered('dev');
    const dir = await mkdtemp(join(tmpdir(), 'cairn-k8s-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const seeds = join(dir, 'nats');
    await writeCredentials(seeds);
    const server = await withNats(t, { args: ['-c', join(seeds, 'auth.conf')] });
    const sink = await startHttpSink();
    t.teardown(() => sink.close());

    /** A container's environment, with what the cluster would provide replaced. */
    const local = (m: Manifest, podName: string): Record<string, string> => {
      const [container] = podSpec(m).containers;
      const env = environment(manifests, container!, podName);
      env['NATS_URL'] = server.url;
      env['NATS_NKEY'] = env['NATS_NKEY']!.replace('/var/run/secrets/cairn/nats', seeds);
      env['CAIRN_LOG_LEVEL'] = 'info';
      return env;
    };

    // The publish Job: its script, with the ConfigMap and the Secret as local directories.
    const job = find(manifests, 'Job', 'cairn-publish');
    const journeysDir = join(dir, 'journeys');
    const destinationsDir = join(dir, 'destinations');
    await mkdir(journeysDir);
    await mkdir(destinationsDir);
    const cmName = podSpec(job).volumes!.find((v) => v.name === 'journeys')!.configMap!.name;
    for (const [file, text] of Object.entries(find(manifests, 'ConfigMap', cmName).data ?? {}))
      await writeFile(join(journeysDir, file), text);
    await writeFile(
      join(destinationsDir, 'demo-webhook.yaml'),
      `id: demo-webhook\ntype: webhook\nurl: ${sink.url}/hooks/demo\n`,
    );
    const script = podSpec(job)
      .containers[0]!.args![0]!.replaceAll('/etc/cairn/journeys', journeysDir)
      .replaceAll('/etc/cairn/destinations', destinationsDir);
    const run = spawnSync('/bin/sh', ['-c', script], {
      cwd: REPO,
      env: { PATH: process.env['PATH'] ?? '', ...local(job, 'cairn-publish-x7k2p') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.equal(run.status, 0, `the Job's script succeeds: ${run.stderr}`);
    t.match(run.stdout, /published form-forwarding v1/);
    t.match(run.stdout, /published cart-abandonment v1/);

    // The services, each with its manifest's environment.
    const ports = new Map<ServiceName, number>();
    const processes = [];
    for (const [name, kind, workload] of SERVICES) {
      const env = local(find(manifests, kind, workload), `${workload}-0`);
      const port = await freePort();
      ports.set(name, port);
      env['CAIRN_METRICS_PORT'] = String(port);
      if (name === 'ingest') {
        env['CAIRN_HTTP_PORT'] = String(await freePort());
        env['CAIRN_WRITE_KEYS'] = 'k8s-test-key';
      }
      // The admin API's test send goes out from its own process, like the sender's deliveries.
      if (name === 'sender' || name === 'admin') env['CAIRN_EGRESS_ALLOW_LOOPBACK'] = 'true';
      if (name === 'admin') env['CAIRN_ADMIN_PORT'] = String(await freePort());
      // Five processes start at once: on a loaded host that takes longer than one.
      const p = spawnService(name, env, { readyTimeoutMs: 60_000 });
      t.teardown(() => p.kill());
      processes.push({ p, env });
    }
    for (const { p } of processes) await p.ready;
    for (const [name, port] of ports) {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      t.equal(res.status, 200, `${name}: /readyz on its metrics port`);
    }

    const ingestEnv = processes[0]!.env;
    const res = await fetch(`http://127.0.0.1:${ingestEnv['CAIRN_HTTP_PORT']}/v1/track`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('k8s-test-key:').toString('base64')}`,
      },
      body: JSON.stringify({ userId: 'k8s-user', event: 'form_submitted', messageId: 'k8s-m1' }),
    });
    t.equal(res.status, 200, 'ingest accepts the event');
    const [delivery] = await sink.waitFor(1, 30_000);
    t.match(delivery?.body, { event: 'Form Submitted', userId: 'k8s-user' }, 'delivered to the destination');

    // The admin API, on the address its manifest gives it, with the tokens of its Secret: a read
    // (the published journeys) and a write (a test send, recorded in stream AUDIT first).
    const adminEnv = processes.find(({ p }) => p.name === 'admin')!.env;
    t.equal(adminEnv['CAIRN_ADMIN_HOST'], '0.0.0.0', 'admin listens on every address of the pod');
    const tokens = SECRET_SAMPLES['cairn-admin-tokens/CAIRN_ADMIN_TOKENS']!.split(',').map((e) =>
      e.split(':'),
    );
    const bearer = (role: string): string => `Bearer ${tokens.find((e) => e[1] === role)![2]}`;
    const admin = `http://127.0.0.1:${adminEnv['CAIRN_ADMIN_PORT']}/api/v1`;
    const listed = await fetch(`${admin}/journeys`, { headers: { authorization: bearer('read') } });
    t.equal(listed.status, 200, 'admin: GET /journeys with a read token');
    const ids = ((await listed.json()) as { journeys: { id: string }[] }).journeys.map((j) => j.id).sort();
    t.same(ids, ['cart-abandonment', 'form-forwarding'], 'admin: the journeys the Job published');
    const unauthorized = await fetch(`${admin}/journeys`);
    t.equal(unauthorized.status, 401, 'admin: no token, 401');
    const sent = await fetch(`${admin}/destinations/demo-webhook/test`, {
      method: 'POST',
      headers: { authorization: bearer('write') },
    });
    t.match(await sent.json(), { ok: true, type: 'webhook' }, 'admin: a test send with a write token');
    t.equal(sent.status, 200, 'admin: the test send answered 200');
    await sink.waitFor(2, 10_000);
    // Its audit record, read back as the operator's CLI would (the admin NATS user).
    const reader = await connectBus({
      url: server.url,
      name: 'k8s-test-audit',
      logger: silentLogger,
      nkey: join(seeds, 'admin.nk'),
      inboxPrefix: inboxPrefixOf('admin'),
    });
    t.teardown(() => reader.close());
    const record = await reader.jsm.streams.getMessage(STREAMS.AUDIT, {
      last_by_subj: subjects.audit('admin'),
    });
    t.match(
      record?.json(),
      { who: 'ops', role: 'write', route: '/api/v1/destinations/:id/test', outcome: 'ok' },
      'admin: the test send is in stream AUDIT with the token name',
    );

    // SIGTERM, as Kubernetes sends it: each drains and exits 0.
    for (const { p } of processes) t.equal(await p.stop(), 0, `${p.name} exits 0 on SIGTERM`);
  },
);

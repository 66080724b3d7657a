// A local 3-node JetStream cluster (routes between nats-server processes on random ports, one
// temp store dir each) for the tests that must hold on R3 (DESIGN.md §5.8): kill a node, restart
// it, find a stream's leader.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { freePort, startNatsServer, type NatsServerHandle } from './nats-server.js';

export interface NatsClusterHandle {
  nodes: NatsServerHandle[];
  /** Server names, in the order of `nodes` (`n0`, `n1`, …). */
  names: string[];
  /** Every node's URL, comma-separated: what NATS_URL gets. */
  url: string;
  /** Resolves once JetStream answers through every running node (a meta leader exists). */
  ready(timeoutMs?: number): Promise<void>;
  /** The node that leads a stream's raft group now (KV bucket `b` is stream `KV_b`). */
  leaderOf(stream: string): Promise<NatsServerHandle>;
  /** Each node's monitoring URL (`/jsz`), in the order of `nodes`. */
  monitorUrls: string[];
  stop(): Promise<void>;
}

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export async function startNatsCluster(size = 3): Promise<NatsClusterHandle> {
  const root = await mkdtemp(join(tmpdir(), 'cairn-cluster-'));
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const monitorPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const names = clusterPorts.map((_, i) => `n${i}`);
  const nodes = await Promise.all(
    clusterPorts.map((cport, i) =>
      startNatsServer({
        storeDir: join(root, names[i]!),
        args: [
          '-n',
          names[i]!,
          '--cluster_name',
          'cairn-test',
          '--cluster',
          `nats://127.0.0.1:${cport}`,
          '--routes',
          routes,
          '-m',
          String(monitorPorts[i]),
        ],
      }),
    ),
  );
  const url = nodes.map((n) => n.url).join(',');

  const ready = async (timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (const node of nodes.filter((n) => n.running())) {
      for (;;) {
        try {
          const nc = await connect({ servers: node.url, timeout: 2_000 });
          try {
            const jsm = await jetstreamManager(nc, { timeout: 2_000 });
            await jsm.getAccountInfo();
            break;
          } finally {
            await nc.close();
          }
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`cluster not ready: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  };

  /** The node leading `stream`; waits (up to `timeoutMs`) while a loaded or recovering cluster
   * times out on the stream info or has no leader yet. */
  const leaderOf = async (stream: string, timeoutMs = 60_000): Promise<NatsServerHandle> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const nc = await connect({ servers: nodes.filter((n) => n.running()).map((n) => n.url) });
        try {
          const jsm = await jetstreamManager(nc);
          const info = await jsm.streams.info(stream);
          const i = names.indexOf(info.cluster?.leader ?? '');
          if (i < 0) throw new Error(`stream ${stream} has no leader now`);
          return nodes[i]!;
        } finally {
          await nc.close();
        }
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  await ready();
  return {
    nodes,
    names,
    url,
    monitorUrls: monitorPorts.map((p) => `http://127.0.0.1:${p}`),
    ready,
    leaderOf,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A cluster for one tap test (or file), stopped in teardown. */
export async function withNatsCluster(t: Teardownable, size = 3): Promise<NatsClusterHandle> {
  const cluster = await startNatsCluster(size);
  t.teardown(() => cluster.stop());
  return cluster;
}

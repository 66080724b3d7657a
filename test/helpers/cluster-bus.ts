// A connected bus provisioned at R3 on a fresh local 3-node cluster, torn down with the test,
// and the helpers of the node-loss tests: retry through an election, find a consumer's node.
import { connectBus, provision, type Bus } from '../../libs/bus/index.js';
import { loadConfig, type Config } from '../../libs/config/index.js';
import { COUNT_CONSUMER_PREFIX } from '../../services/timer/index.js';
import { silentLogger } from './bus.js';
import { withNatsCluster, type NatsClusterHandle } from './nats-cluster.js';
import type { NatsServerHandle } from './nats-server.js';

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export interface ClusterBus {
  cluster: NatsClusterHandle;
  bus: Bus;
  config: Config;
}

export async function withClusterBus(t: Teardownable, env: Record<string, string> = {}): Promise<ClusterBus> {
  const cluster = await withNatsCluster(t);
  const config = loadConfig({ ...env, NATS_URL: cluster.url, CAIRN_REPLICAS: '3' });
  const bus = await connectBus({ url: cluster.url, name: 'test', logger: silentLogger });
  t.teardown(() => bus.close());
  await provision(bus, config, silentLogger);
  return { cluster, bus, config };
}

/** Retries `fn` through the seconds a new leader takes to be elected. */
export async function persist<R>(fn: () => Promise<R>, timeoutMs = 30_000): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The node leading the consumer of `stream` with this filter (or durable name) now. */
export async function nodeOfConsumer(
  { bus, cluster }: ClusterBus,
  stream: string,
  match: { filter?: string; durable?: string },
): Promise<{ node: NatsServerHandle; name: string }> {
  for await (const ci of bus.jsm.consumers.list(stream)) {
    // The timer service's short-lived counting consumers share the follower's filter.
    if (ci.name.startsWith(COUNT_CONSUMER_PREFIX)) continue;
    if (match.filter !== undefined && ci.config.filter_subject !== match.filter) continue;
    if (match.durable !== undefined && ci.name !== match.durable) continue;
    const i = cluster.names.indexOf(ci.cluster?.leader ?? '');
    if (i >= 0) return { node: cluster.nodes[i]!, name: cluster.names[i]! };
  }
  throw new Error(`no consumer of ${stream} matching ${JSON.stringify(match)} has a leader`);
}

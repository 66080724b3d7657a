// A follower that lags a write, for the tests of reads on an R3 cluster (DESIGN.md §5.8): the
// follower is SIGSTOPped, the write commits on the leader and the other follower (a quorum of
// two), reads are issued through a connection to the stopped node only, then the node is
// continued. For a moment it answers from its own store before its raft log has caught up, so a
// read it answers itself (a direct get) sees the value from before the write (so may the other
// follower, which has the write in its log but applies it only once it learns of the commit).
// Not every round hits that moment: `followerRevision`, a direct get asked after the reads, tells
// whether one did.
import { provision, connectBus, BUCKETS, type Bus } from '../../libs/bus/index.js';
import { loadConfig, type Config } from '../../libs/config/index.js';
import { Empty } from '@nats-io/transport-node';
import { silentLogger, waitUntil } from './bus.js';
import { withNatsCluster, type NatsClusterHandle } from './nats-cluster.js';
import type { NatsServerHandle } from './nats-server.js';

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export interface LaggingCluster {
  cluster: NatsClusterHandle;
  config: Config;
  /** Connected to the bucket's stream leader only: its writes commit while the follower is stopped. */
  writer: Bus;
  /** Connected to one follower of the bucket's stream only. */
  reader: Bus;
  follower: NatsServerHandle;
  /** The revision of `key` by direct get through the follower (answered by it, or by another
   * replica when it serves none), 0 for none. */
  followerRevision(key: string): Promise<number>;
  /** Waits until the follower has caught up with the leader on `key`. */
  caughtUp(key: string, revision: number): Promise<void>;
  /** Stops the follower, runs `write`, issues `read` through the follower, continues it. */
  readBehind<R>(write: () => Promise<unknown>, read: () => Promise<R>): Promise<R>;
}

/** A 3-node cluster provisioned at R3, with a writer on `bucket`'s leader and a reader on a follower. */
export async function withLaggingFollower(
  t: Teardownable,
  bucket: string = BUCKETS.instances,
  env: Record<string, string> = {},
): Promise<LaggingCluster> {
  const cluster = await withNatsCluster(t);
  const config = loadConfig({ ...env, NATS_URL: cluster.url, CAIRN_REPLICAS: '3' });
  const admin = await connectBus({ url: cluster.url, name: 'admin', logger: silentLogger });
  try {
    // Until the meta leader knows every peer, an R3 placement is refused: try again.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await provision(admin, config, silentLogger);
        break;
      } catch (err) {
        if (Date.now() > deadline || !/no suitable peers|insufficient resources/i.test(String(err)))
          throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await admin.close();
  }
  const stream = `KV_${bucket}`;
  const leader = await cluster.leaderOf(stream);
  const follower = cluster.nodes.find((n) => n !== leader)!;
  const writer = await connectBus({ url: leader.url, name: 'writer', logger: silentLogger });
  t.teardown(() => writer.close());
  const reader = await connectBus({ url: follower.url, name: 'reader', logger: silentLogger });
  t.teardown(() => reader.close());
  // Continued in teardown too, so that a failed assertion never leaves a node stopped.
  t.teardown(() => follower.signal('SIGCONT'));

  const followerRevision = async (key: string): Promise<number> => {
    const reply = await reader.lean.request(`$JS.API.DIRECT.GET.${stream}.$KV.${bucket}.${key}`, Empty);
    return reply.headers?.code === 404 ? 0 : Number(reply.headers?.get('Nats-Sequence'));
  };
  return {
    cluster,
    config,
    writer,
    reader,
    follower,
    followerRevision,
    async caughtUp(key, revision) {
      await waitUntil(async () => (await followerRevision(key)) >= revision, 20_000, 'follower caught up');
    },
    async readBehind<R>(write: () => Promise<unknown>, read: () => Promise<R>): Promise<R> {
      follower.signal('SIGSTOP');
      try {
        await write();
        const reading = read();
        // Let the client hand the requests to the socket before the node runs again.
        await new Promise((r) => setImmediate(r));
        follower.signal('SIGCONT');
        return await reading;
      } finally {
        follower.signal('SIGCONT');
      }
    },
  };
}

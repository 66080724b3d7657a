// The test cluster itself: three routed nodes, an R3 stream whose leader can be killed and
// whose writes survive the new leader's election.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import t from 'tap';

import { withNatsCluster } from '../../helpers/nats-cluster.js';

void t.test('an R3 stream keeps its messages when its leader is killed', async (t) => {
  const cluster = await withNatsCluster(t);
  const nc = await connect({ servers: cluster.url.split(','), maxReconnectAttempts: -1 });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 });
  const js = jetstream(nc);
  await js.publish('s.1', 'one');
  const leader = await cluster.leaderOf('S');
  await leader.kill();
  t.notOk(leader.running());
  // A new leader is elected among the two survivors; the write is still there.
  let ack;
  for (let i = 0; !ack; i++) {
    ack = await js.publish('s.2', 'two').catch((err: unknown) => {
      if (i > 100) throw err;
      return new Promise<undefined>((r) => setTimeout(() => r(undefined), 200));
    });
  }
  t.equal(ack.seq, 2);
  t.not((await cluster.leaderOf('S')).url, leader.url);
  await leader.start();
  await cluster.ready();
  t.equal((await jsm.streams.info('S')).state.messages, 2);
});

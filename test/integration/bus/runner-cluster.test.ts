// On a 3-node R3 cluster, losing the node that leads a runner consumer costs seconds, not the
// client's default 30–45 s (two missed 15 s heartbeats, then a consumer info that waits for an
// API timeout): a MATCH message published after the kill is handled within a few seconds
// (DESIGN.md §5.8).
/* eslint-disable @typescript-eslint/require-await */
import t from 'tap';

import { ack, startRunner, STREAMS } from '../../../libs/bus/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { nodeOfConsumer, persist, withClusterBus } from '../../helpers/cluster-bus.js';

void t.test(
  'a message published after its consumer’s node is killed is handled within seconds',
  async (t) => {
    const cb = await withClusterBus(t, { CAIRN_PARTITIONS: '1' });
    const { bus } = cb;
    const handled = new Map<string, number>();
    const runner = startRunner({
      bus,
      stream: STREAMS.MATCH,
      stage: 'matcher',
      subjects: ['match.0.*'],
      keyOf: () => 'k',
      handler: async (m) => {
        handled.set(new TextDecoder().decode(m.data), Date.now());
        return ack();
      },
      maxDeliver: 5,
      ackWaitMs: 30_000,
      concurrency: 4,
      dlqSubject: 'dlq.matcher',
      logger: silentLogger,
    });
    t.teardown(() => runner.stop(1_000));
    await runner.ready;
    await bus.js.publish('match.0.event', new TextEncoder().encode('before'));
    await waitUntil(() => handled.has('before'), 10_000, 'a message handled before the kill');

    const { node, name } = await nodeOfConsumer(cb, STREAMS.MATCH, { durable: 'matcher-p0' });
    t.comment(`killing ${name}, which leads matcher-p0 (the client is on ${bus.nc.info?.server_name})`);
    const killed = Date.now();
    await node.kill();
    await persist(() => bus.js.publish('match.0.event', new TextEncoder().encode('after')));
    const stored = Date.now();
    await waitUntil(() => handled.has('after'), 90_000, 'the message published after the kill is handled');
    const delay = handled.get('after')! - stored;
    t.comment(`stored ${stored - killed} ms after the kill, handled ${delay} ms after it was stored`);
    // The consumer's new leader is elected ~5 s after the kill; the pull is made again within ~1.5 s.
    t.ok(delay < 12_000, `handled ${delay} ms after it was stored (the default settings take 30–45 s)`);
    await node.start();
    await cb.cluster.ready();
  },
);

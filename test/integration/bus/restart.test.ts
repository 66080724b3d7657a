// Handlers are async by contract even when a test handler never awaits.
/* eslint-disable @typescript-eslint/require-await */
import t from 'tap';

import { ack, BUCKETS, retry, startRunner, STREAMS } from '../../../libs/bus/index.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Retries `publish` (each try with a 1 s timeout) until it is acked, at most 15 s. */
async function ackedAfterReconnect(publish: () => Promise<unknown>, what: string): Promise<void> {
  await waitUntil(
    () =>
      publish().then(
        () => true,
        () => false,
      ),
    15_000,
    what,
  );
}

void t.test('a stored message survives a server restart and the runner resumes', async (t) => {
  const tb = await withBus(t);
  await tb.bus.js.publish('match.0.event', bytes('before'));
  await tb.server.restart();

  const handled: string[] = [];
  const runner = startRunner({
    bus: tb.bus,
    stream: STREAMS.MATCH,
    stage: 'matcher',
    subjects: ['match.0.*'],
    keyOf: () => 'k',
    handler: async (m) => {
      handled.push(new TextDecoder().decode(m.data));
      return ack();
    },
    maxDeliver: 3,
    ackWaitMs: 5_000,
    concurrency: 4,
    dlqSubject: 'dlq.matcher',
    logger: silentLogger,
  });
  t.teardown(() => runner.stop(1_000));
  await runner.ready;
  await waitUntil(() => handled.includes('before'), 15_000, 'the message stored before the restart');

  // The same runner keeps consuming across a second restart.
  await tb.server.restart();
  await ackedAfterReconnect(
    () => tb.bus.js.publish('match.0.event', bytes('after'), { msgID: 'after-1', timeout: 1_000 }),
    'publish after reconnect',
  );
  await waitUntil(() => handled.includes('after'), 20_000, 'the message published after the restart');
  t.same(handled, ['before', 'after']);
});

void t.test(
  'the lean hot path answers again after a server restart (its reply subscription comes back)',
  async (t) => {
    const tb = await withBus(t);
    const kv = await tb.bus.store(BUCKETS.state);
    await kv.put('k', bytes('before'));
    await tb.server.restart();
    // A request made while the client reconnects may time out; the handlers' retry covers that.
    // What must not happen is a path that never answers again.
    await ackedAfterReconnect(
      () => tb.bus.lean.publish('match.0.event', bytes('after'), { msgID: 'lean-after', timeout: 1_000 }),
      'a lean publish acked after the restart',
    );
    t.equal(new TextDecoder().decode((await kv.get('k'))!.value), 'before', 'a KV read through it too');
    t.equal(
      (await tb.bus.lean.publish('match.0.event', bytes('after'), { msgID: 'lean-after' })).duplicate,
      true,
    );
    t.equal(tb.bus.lean.inFlight, 0, 'nothing left waiting');
  },
);

void t.test(
  'redeliveries that were no attempt (the server resent a message the runner held while NATS restarted) do not use up max deliver',
  async (t) => {
    const tb = await withBus(t);
    await tb.bus.js.publish('match.0.event', bytes('held'));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const runs: number[] = [];
    let dlq = 0;
    tb.bus.nc.subscribe('dlq.matcher', {
      callback: () => {
        dlq++;
      },
    });
    const runner = startRunner({
      bus: tb.bus,
      stream: STREAMS.MATCH,
      stage: 'matcher',
      subjects: ['match.0.*'],
      keyOf: () => 'k',
      handler: async (_m, ctx) => {
        runs.push(ctx.deliveryCount);
        if (runs.length > 1) return ack();
        // The first run outlives a restart longer than ack wait (the client reconnects after
        // 2 s): the server redelivers the message meanwhile, the runner ignores the copy.
        await released;
        return retry(100);
      },
      maxDeliver: 2,
      ackWaitMs: 1_000,
      concurrency: 4,
      dlqSubject: 'dlq.matcher',
      logger: silentLogger,
    });
    t.teardown(() => runner.stop(1_000));
    await runner.ready;
    await waitUntil(() => runs.length === 1, 10_000, 'the first run');
    await tb.server.restart();
    await waitUntil(
      () =>
        tb.bus.jsm.consumers.info(STREAMS.MATCH, 'matcher-p0').then(
          (i) => i.num_redelivered > 0,
          () => false,
        ),
      20_000,
      'the server redelivered the held message',
    );
    release();
    await waitUntil(() => runs.length === 2 || dlq > 0, 20_000, 'a second run or a dead letter');
    t.same(runs, [1, 2], 'the second run is attempt 2, within the budget of 2');
    t.equal(dlq, 0, 'nothing dead-lettered');
  },
);

// On a 3-node R3 cluster, losing the node that serves the timer follower's pull costs seconds,
// not the client's default 30–45 s (two missed 15 s heartbeats, then ~25 s more waiting for the
// dead consumer to answer): a timer stored after the kill fires within a few seconds of its
// instant (DESIGN.md §5.4, §5.8).
import t from 'tap';

import {
  BUCKETS,
  STREAMS,
  TimerMessage,
  WATERMARK_KEY,
  watermarkCodec,
  type TimerRecord,
} from '../../../libs/bus/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { startTimer } from '../../../services/timer/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { nodeOfConsumer, persist, withClusterBus, type ClusterBus } from '../../helpers/cluster-bus.js';

void t.test('a timer stored after the follower’s node is killed fires within seconds', async (t) => {
  // Wide buckets: a timer the follower does not bring would wait for its bucket to close.
  const cb = await withClusterBus(t, { CAIRN_PARTITIONS: '1', CAIRN_TIMER_BUCKET: '60s' });
  const { bus } = cb;
  const state = await bus.kv(BUCKETS.state);
  await state.put(WATERMARK_KEY, watermarkCodec.encode({ v: 1, at: Date.now() + 3_600_000 }));
  const { fired, publishTimer } = await timerService(t, cb);

  const { node, name } = await nodeOfConsumer(cb, STREAMS.TIMERS, { filter: 'timers.0.*' });
  t.comment(`killing ${name}, which serves the follower (the client is on ${bus.nc.info?.server_name})`);
  await node.kill();
  const at = Date.now() + 500;
  const stored = await publishTimer('after', at);
  await waitUntil(() => fired.has('after'), 90_000, 'the timer stored after the kill fires');
  const firedAt = fired.get('after')!;
  t.comment(`stored ${stored - at + 500} ms after the kill; fired ${firedAt - at} ms after its instant`);
  t.ok(firedAt >= at, 'not early');
  // A new ordered consumer needs a live stream leader: up to ~5 s when the node led TIMERS too.
  t.ok(
    firedAt - Math.max(at, stored) < 12_000,
    `fired ${firedAt - Math.max(at, stored)} ms after it was stored and due`,
  );
  await node.start();
  await cb.cluster.ready();
});

void t.test(
  'a due timer waits at most a few seconds when the watermark watch’s node is killed',
  async (t) => {
    const cb = await withClusterBus(t, { CAIRN_PARTITIONS: '1', CAIRN_TIMER_BUCKET: '1s' });
    const { bus } = cb;
    const state = await bus.kv(BUCKETS.state);
    // Ingest's part: the watermark, 50 ms behind the clock, every 100 ms; when each was written.
    const written: [number, number][] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const at = Date.now() - 50;
        await state
          .put(WATERMARK_KEY, watermarkCodec.encode({ v: 1, at }))
          .then(() => written.push([at, Date.now()]))
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    t.teardown(async () => {
      writing = false;
      await writer;
    });
    const { fired, publishTimer } = await timerService(t, cb);

    const { node, name } = await nodeOfConsumer(cb, 'KV_cairn_state', {
      filter: `$KV.${BUCKETS.state}.${WATERMARK_KEY}`,
    });
    t.comment(
      `killing ${name}, which serves the watermark watch (the client is on ${bus.nc.info?.server_name})`,
    );
    await node.kill();
    const at = Date.now() + 500;
    const stored = await publishTimer('after', at);
    await waitUntil(() => fired.has('after'), 90_000, 'the timer due after the kill fires');
    const firedAt = fired.get('after')!;
    // Due once stored and once a watermark at or past its instant was written.
    const passed = written.find(([w]) => w >= at)?.[1] ?? Infinity;
    const due = Math.max(stored, passed);
    t.comment(
      `stored ${stored - at + 500} ms after the kill, watermark past it ${passed - at} ms after its instant; fired ${firedAt - due} ms after both`,
    );
    t.ok(firedAt >= at, 'not early');
    t.ok(firedAt - due < 4_000, `fired ${firedAt - due} ms after it was stored and the watermark passed it`);
    await node.start();
    await cb.cluster.ready();
  },
);

/** The timer service on the cluster, a record of what it fired (token -> when), and a way to
 * store a timer of partition 0 (returns when it was stored); a first timer has fired. */
async function timerService(
  t: Parameters<typeof withClusterBus>[0],
  cb: ClusterBus,
): Promise<{ fired: Map<string, number>; publishTimer: (token: string, at: number) => Promise<number> }> {
  const { bus, config } = cb;
  const fired = new Map<string, number>();
  const sub = bus.nc.subscribe('match.*.timer', {
    callback: (_err, m) => {
      fired.set(TimerMessage.decode(m.data).token, Date.now());
    },
  });
  t.teardown(() => sub.unsubscribe());
  const publishTimer = async (token: string, at: number): Promise<number> => {
    const timer: TimerRecord = {
      v: 1,
      kind: 'timer',
      journeyId: 'j',
      userKey: token,
      instanceKey: 'i',
      token,
      at,
    };
    const subject = `timers.0.${Math.floor(at / config.timerBucketMs)}`;
    await persist(() => bus.js.publish(subject, TimerMessage.encode(timer), { msgID: token }));
    return Date.now();
  };
  const metrics = createMetrics({ defaultMetrics: false });
  const svc = await startTimer({ config, bus, logger: silentLogger, metrics });
  t.teardown(() => svc.stop(1_000));
  await publishTimer('before', Date.now() + 200);
  await waitUntil(() => fired.has('before'), 10_000, 'a timer fires before the kill');
  return { fired, publishTimer };
}

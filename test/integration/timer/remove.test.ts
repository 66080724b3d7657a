// Removing fired timers never moves a consumer nor removes a timer nobody accepted. On
// nats-server 2.9.10 a filtered purge moves every consumer whose filter overlaps the purged
// subject (nats-io/nats-server#3838, fixed in 2.9.12): the timer follower (`timers.<p>.*`)
// would skip the unread timers of the partition's other buckets.
import { AckPolicy, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import t from 'tap';

import { decodeDlqRecord, STREAMS, TimerMessage, type Bus } from '../../../libs/bus/index.js';
import { startTimer } from '../../../services/timer/index.js';
import {
  bucketOfSubject,
  JetStreamTimerStore,
  type StoredTimer,
  type TimerFollower,
} from '../../../services/timer/store.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';
import { withTimers } from './helpers.js';

void t.test('removing a bucket’s timers moves no consumer of the partition', async (t) => {
  const { bus } = await withBus(t, { CAIRN_PARTITIONS: '2', CAIRN_TIMER_BUCKET: '1s' });
  const store = new JetStreamTimerStore(bus, silentLogger);
  await bus.jsm.consumers.add(STREAMS.TIMERS, {
    name: 'follower',
    filter_subject: 'timers.1.*',
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    inactive_threshold: nanos(60_000),
  });
  const consumer = await bus.js.consumers.get(STREAMS.TIMERS, 'follower');
  const data = new Uint8Array([1]);

  t.equal((await bus.js.publish('timers.1.100', data)).seq, 1);
  t.equal((await consumer.next({ expires: 5_000 }))?.seq, 1, 'the consumer reads seq 1');
  t.equal((await bus.js.publish('timers.1.101', data)).seq, 2);
  t.equal((await bus.js.publish('timers.1.100', data)).seq, 3);

  // Bucket 100's accepted timer (seq 1) fired: remove it, and only it.
  await store.remove([1]);

  t.equal((await consumer.next({ expires: 5_000 }))?.seq, 2, 'the consumer next reads seq 2, not 3');
  const info = await bus.jsm.streams.info(STREAMS.TIMERS, { subjects_filter: 'timers.1.*' });
  t.same(info.state.subjects, { 'timers.1.100': 1, 'timers.1.101': 1 }, 'seq 3, never accepted, stays');
  // Removing again (a retry after a lost reply) is not an error.
  await store.remove([1]);
});

/** A timer store whose partition-0 follower is a plain consumer of `timers.0.*` that exists on
 * the server from the start but reads nothing until `release()`, and may drop messages: the
 * follower has unread (or lost) messages, deterministically. */
class HeldFollowerStore extends JetStreamTimerStore {
  private opened: () => void = () => undefined;
  private readonly gate = new Promise<void>((r) => (this.opened = r));
  readonly progress: number[] = [];

  constructor(
    private readonly b: Bus,
    private readonly drop: (t: StoredTimer) => boolean = () => false,
  ) {
    super(b, silentLogger);
  }

  release(): void {
    this.opened();
  }

  override async writeProgress(p: number, bucket: number): Promise<void> {
    await super.writeProgress(p, bucket);
    if (p === 0) this.progress.push(bucket);
  }

  override async follow(p: number, onTimer: (t: StoredTimer) => void): Promise<TimerFollower> {
    if (p !== 0) return super.follow(p, onTimer);
    const info = await this.b.jsm.streams.info(STREAMS.TIMERS);
    const name = `held-${p}`;
    await this.b.jsm.consumers.add(STREAMS.TIMERS, {
      name,
      filter_subject: 'timers.0.*',
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.state.last_seq + 1,
      inactive_threshold: nanos(60_000),
    });
    let closed = false;
    let messages: ConsumerMessages | undefined;
    const reading = this.gate.then(async () => {
      if (closed) return;
      const consumer = await this.b.js.consumers.get(STREAMS.TIMERS, name);
      messages = await consumer.consume({
        callback: (m) => {
          const t = { bucket: bucketOfSubject(m.subject)!, seq: m.seq, timer: TimerMessage.decode(m.data) };
          if (!this.drop(t)) onTimer(t);
        },
      });
    });
    return {
      stop: async () => {
        closed = true;
        this.release();
        await reading;
        await messages?.close();
      },
    };
  }
}

void t.test('finishing a bucket while the follower has unread timers loses none of them', async (t) => {
  const h = await withTimers(t);
  await h.setWatermark(Date.now() + 3_600_000);
  const width = h.config.timerBucketMs;
  // Early in a bucket, so that the next one is within the first load's horizon.
  await waitUntil(() => Date.now() % width < width / 4, 5_000, 'early in a bucket');
  const first = h.bucketOf(Date.now()) + 1;
  await h.publishTimer(0, first * width + 100, 'first');
  const store = new HeldFollowerStore(h.bus);
  const svc = await startTimer(
    { config: h.config, bus: h.bus, logger: silentLogger, metrics: h.metrics },
    { store },
  );
  t.teardown(() => svc.stop(1_000));
  // Stored after the load of its (next) bucket: only the follower brings it, and it has not read it.
  await h.publishTimer(0, (first + 1) * width + 300, 'other-bucket');
  await waitUntil(() => store.progress.some((b) => b >= first), 10_000, 'first bucket finished');
  store.release();
  await waitUntil(
    () => h.fired.some((f) => f.timer.token === 'other-bucket'),
    10_000,
    'other bucket’s timer fired',
  );
  const f = h.fired.find((x) => x.timer.token === 'other-bucket')!;
  t.ok(f.firedAt >= f.timer.at, 'not early');
  t.equal(
    h.fired.filter((x) => x.timer.token === 'first').length,
    1,
    'the finished bucket’s timer fired once',
  );
});

void t.test('a bucket holding a timer nobody accepted is loaded again before it is finished', async (t) => {
  const h = await withTimers(t);
  await h.setWatermark(Date.now() + 3_600_000);
  const width = h.config.timerBucketMs;
  const store = new HeldFollowerStore(h.bus, (x) => x.timer?.token === 'skipped');
  store.release();
  const svc = await startTimer(
    { config: h.config, bus: h.bus, logger: silentLogger, metrics: h.metrics },
    { store },
  );
  t.teardown(() => svc.stop(1_000));
  const at = Date.now() + 300;
  await h.publishTimer(0, at, 'seen');
  await h.publishTimer(0, at + 1, 'skipped');
  await waitUntil(() => h.fired.some((f) => f.timer.token === 'skipped'), 10_000, 'skipped timer fired');
  const f = h.fired.find((x) => x.timer.token === 'skipped')!;
  t.ok(f.firedAt >= at, 'not early');
  // Found when its bucket closed: at most a bucket and a maintenance period late (+ slack).
  t.ok(f.firedAt - at < 2 * width + 2_000, `fired ${f.firedAt - at} ms after its instant`);
  const subject = `timers.0.${h.bucketOf(at)}`;
  await waitUntil(
    async () =>
      ((await h.bus.jsm.streams.info(STREAMS.TIMERS, { subjects_filter: subject })).state.subjects?.[
        subject
      ] ?? 0) === 0,
    10_000,
    'bucket removed',
  );
});

void t.test('an undecodable timer gets a DLQ record before it is removed with its bucket', async (t) => {
  const h = await withTimers(t);
  await h.setWatermark(Date.now() + 3_600_000);
  await h.start();
  const at = Date.now() + 300;
  const subject = `timers.1.${h.bucketOf(at)}`;
  const garbage = new Uint8Array([0xc1, 0xff, 0x00]);
  const { seq } = await h.bus.js.publish(subject, garbage);
  await h.publishTimer(1, at, 'fine');
  await waitUntil(() => h.fired.some((f) => f.timer.token === 'fine'), 10_000, 'valid timer fired');
  const count = async (s: string, stream: string = STREAMS.TIMERS) =>
    (await h.bus.jsm.streams.info(stream, { subjects_filter: s })).state.subjects?.[s] ?? 0;
  await waitUntil(async () => (await count(subject)) === 0, 10_000, 'bucket removed');
  t.equal(await count('dlq.timer', STREAMS.DLQ), 1, 'one record in dlq.timer');
  const m = await h.bus.jsm.streams.getMessage(STREAMS.DLQ, { last_by_subj: 'dlq.timer' });
  const record = decodeDlqRecord(m!.data);
  t.match(record, { v: 1, stage: 'timer', stream: STREAMS.TIMERS, subject, seq, reason: 'bad_message' });
  t.same(Buffer.from(record.payload, 'base64'), Buffer.from(garbage), 'the original payload');
  t.equal(h.fired.length, 1, 'only the valid timer fired');
});

void t.test(
  'timers removed right before the server is SIGKILLed stay removed after it starts again',
  async (t) => {
    // nats-server 2.9 acknowledges a delete but writes it to disk lazily: a killed server brings
    // the deleted messages back. The store makes its recent deletes again after the reconnect.
    const tb = await withBus(t, { CAIRN_PARTITIONS: '2', CAIRN_TIMER_BUCKET: '1s' });
    const store = new JetStreamTimerStore(tb.bus, silentLogger);
    const data = new Uint8Array([1]);
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) seqs.push((await tb.bus.js.publish(`timers.0.${100 + (i % 2)}`, data)).seq);
    await store.remove(seqs.slice(0, 6));
    const stored = async (): Promise<number> =>
      (await tb.bus.jsm.streams.info(STREAMS.TIMERS)).state.messages;
    t.equal(await stored(), 4, 'four timers left before the kill');
    t.equal(store.recentDeletes.size, 6, 'the six deletes are remembered');

    await tb.server.kill();
    await tb.server.start();
    await waitUntil(
      () =>
        stored().then(
          (n) => n === 4,
          () => false,
        ),
      30_000,
      'the six removed timers gone again after the restart',
    );
    const info = await tb.bus.jsm.streams.info(STREAMS.TIMERS, { subjects_filter: 'timers.0.*' });
    t.same(info.state.subjects, { 'timers.0.100': 2, 'timers.0.101': 2 }, 'only the four kept timers');
  },
);

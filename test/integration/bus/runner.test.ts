// Handlers are async by contract even when a test handler never awaits.
/* eslint-disable @typescript-eslint/require-await */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import t from 'tap';

import {
  ack,
  connectBus,
  decodeDlqRecord,
  handBack,
  provision,
  retry,
  startRunner,
  STREAMS,
  terminal,
  type Outcome,
  type RunnerOptions,
} from '../../../libs/bus/index.js';
import { loadConfig } from '../../../libs/config/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { silentLogger, waitUntil, withBus, type TestBus } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';

const text = (m: JsMsg): string => new TextDecoder().decode(m.data);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

async function dlqRecords(tb: TestBus, subject: string) {
  const c = await tb.bus.js.consumers.get(STREAMS.DLQ, { filter_subjects: subject }).catch(() => undefined);
  void c;
  const out = [];
  const info = await tb.bus.jsm.streams.info(STREAMS.DLQ);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await tb.bus.jsm.streams.getMessage(STREAMS.DLQ, { seq });
    if (m && m.subject === subject) out.push(decodeDlqRecord(m.data));
  }
  return out;
}

function run(
  tb: TestBus,
  t: { teardown(fn: () => unknown): void },
  over: Partial<RunnerOptions> & Pick<RunnerOptions, 'handler'>,
) {
  const metrics = createMetrics({ defaultMetrics: false });
  const runner = startRunner({
    bus: tb.bus,
    stream: STREAMS.MATCH,
    stage: 'matcher',
    subjects: ['match.0.*'],
    keyOf: (m) => text(m).split(':')[0] ?? '',
    maxDeliver: 3,
    ackWaitMs: 5_000,
    concurrency: 8,
    dlqSubject: 'dlq.matcher',
    logger: silentLogger,
    metrics,
    ...over,
  });
  t.teardown(() => runner.stop(1_000));
  return { runner, metrics };
}

void t.test('ack, retry with delay, terminal and max deliver', async (t) => {
  const tb = await withBus(t);
  const seen: { body: string; count: number; at: number }[] = [];
  const { runner, metrics } = run(tb, t, {
    handler: async (m, ctx): Promise<Outcome> => {
      const body = text(m);
      seen.push({ body, count: ctx.deliveryCount, at: Date.now() });
      if (body.startsWith('ok')) return ack();
      if (body.startsWith('later')) return ctx.deliveryCount === 1 ? retry(300) : ack();
      if (body.startsWith('bad')) return terminal('bad_input', 'no good');
      if (body.startsWith('throws')) throw new Error('handler bug');
      return retry(10); // forever
    },
  });
  await runner.ready;
  t.ok(runner.isReady());
  for (const b of ['ok:1', 'later:1', 'bad:1', 'flaky:1']) await tb.bus.js.publish('match.0.event', bytes(b));

  await waitUntil(() => seen.filter((s) => s.body === 'later:1').length === 2, 10_000, 'redelivery');
  const [first, second] = seen.filter((s) => s.body === 'later:1');
  t.ok(second!.at - first!.at >= 280, `redelivered after the delay (${second!.at - first!.at} ms)`);
  t.equal(second!.count, 2);

  await waitUntil(async () => (await dlqRecords(tb, 'dlq.matcher')).length === 2, 10_000, 'dlq records');
  const records = await dlqRecords(tb, 'dlq.matcher');
  const bad = records.find((r) => r.reason === 'bad_input')!;
  t.equal(bad.detail, 'no good');
  t.equal(bad.stage, 'matcher');
  t.equal(bad.stream, STREAMS.MATCH);
  t.equal(bad.subject, 'match.0.event');
  t.equal(bad.deliveryCount, 1);
  t.equal(Buffer.from(bad.payload, 'base64').toString(), 'bad:1');
  const flaky = records.find((r) => r.reason === 'max_deliver')!;
  t.equal(Buffer.from(flaky.payload, 'base64').toString(), 'flaky:1');
  t.equal(flaky.deliveryCount, 3);
  t.equal(seen.filter((s) => s.body === 'flaky:1').length, 3, 'handled exactly maxDeliver times');

  // Everything is settled: the work queue is empty.
  await waitUntil(
    async () => (await tb.bus.jsm.streams.info(STREAMS.MATCH)).state.messages === 0,
    10_000,
    'empty queue',
  );
  const dlqCount = await metrics.dlq.get();
  t.same(dlqCount.values.map((v) => [v.labels.reason, v.value]).sort(), [
    ['bad_input', 1],
    ['max_deliver', 1],
  ]);
});

void t.test('a message handed back unrun is not an attempt: no max_deliver however often', async (t) => {
  const tb = await withBus(t);
  let handedBack = 0;
  const runs: number[] = [];
  const { runner, metrics } = run(tb, t, {
    // maxDeliver 3: handed back 6 times (this process may not run it now), then run once and acked.
    handler: async (_m, ctx): Promise<Outcome> => {
      if (handedBack < 6) {
        handedBack++;
        return handBack(10);
      }
      runs.push(ctx.deliveryCount);
      return ack();
    },
  });
  await runner.ready;
  await tb.bus.js.publish('match.0.event', bytes('u1:1'));
  await waitUntil(() => runs.length === 1, 10_000, 'the run after the hand-backs');
  t.same(runs, [1], 'its first run counts as attempt 1');
  t.same(await dlqRecords(tb, 'dlq.matcher'), [], 'not dead-lettered');
  const outcomes = await metrics.runnerMessages.get();
  t.equal(outcomes.values.find((v) => v.labels.outcome === 'handed_back')?.value, 6);
});

void t.test('a throwing handler is retried with backoff', async (t) => {
  const tb = await withBus(t);
  const counts: number[] = [];
  const { runner } = run(tb, t, {
    handler: async (_m, ctx) => {
      counts.push(ctx.deliveryCount);
      if (ctx.deliveryCount < 2) throw new Error('transient');
      return ack();
    },
  });
  await runner.ready;
  await tb.bus.js.publish('match.0.event', bytes('k:1'));
  await waitUntil(() => counts.length === 2, 10_000, 'second delivery');
  t.same(counts, [1, 2]);
});

void t.test('per-key order holds under concurrency, retries included', async (t) => {
  const tb = await withBus(t, {});
  const KEYS = 50;
  const PER_KEY = 20;
  const got = new Map<string, number[]>();
  let running = 0;
  let maxRunning = 0;
  const active = new Set<string>();
  let overlap = false;
  const retried = new Set<string>();
  const { runner } = run(tb, t, {
    subjects: ['match.0.*', 'match.1.*'],
    concurrency: 16,
    maxDeliver: 5,
    handler: async (m) => {
      const [key = '', n = ''] = text(m).split(':');
      if (active.has(key)) overlap = true;
      active.add(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        // Some messages fail once: their key must wait for the redelivery.
        const id = `${key}:${n}`;
        if (Number(n) % 7 === 3 && !retried.has(id)) {
          retried.add(id);
          return retry(50);
        }
        got.set(key, [...(got.get(key) ?? []), Number(n)]);
        return ack();
      } finally {
        running--;
        active.delete(key);
      }
    },
  });
  await runner.ready;
  const pubs: Promise<unknown>[] = [];
  for (let n = 0; n < PER_KEY; n++) {
    for (let k = 0; k < KEYS; k++) pubs.push(tb.bus.js.publish(`match.${k % 2}.event`, bytes(`u${k}:${n}`)));
  }
  await Promise.all(pubs);
  await waitUntil(
    () => [...got.values()].reduce((s, v) => s + v.length, 0) === KEYS * PER_KEY,
    30_000,
    'all handled',
  );
  const expected = [...Array(PER_KEY).keys()];
  const wrong = [...got.entries()].filter(([, seq]) => JSON.stringify(seq) !== JSON.stringify(expected));
  t.same(wrong, [], 'every key saw its messages in order');
  t.equal(overlap, false, 'never two messages of one key at once');
  t.ok(maxRunning > 1 && maxRunning <= 16, `ran concurrently within the cap (${maxRunning})`);
});

void t.test('stop drains in-flight work and naks the rest', async (t) => {
  const tb = await withBus(t);
  // The first runner has its own connection, closed after stop as a service does on SIGTERM:
  // the server forgets its pull requests, so the nak'd messages go to the next runner at once.
  const oldBus = await connectBus({ url: tb.server.url, name: 'old', logger: silentLogger });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const handled: string[] = [];
  const { runner } = run({ ...tb, bus: oldBus }, t, {
    concurrency: 1,
    handler: async (m) => {
      await gate;
      handled.push(text(m));
      return ack();
    },
  });
  await runner.ready;
  for (const b of ['a:1', 'a:2', 'a:3']) await tb.bus.js.publish('match.0.event', bytes(b));
  await waitUntil(
    async () => (await tb.bus.jsm.consumers.info(STREAMS.MATCH, 'matcher-p0')).num_ack_pending === 3,
    10_000,
    'all pulled',
  );
  const stopped = runner.stop(5_000);
  t.equal(runner.isReady(), false);
  release();
  await stopped;
  await oldBus.close();
  t.same(handled, ['a:1'], 'the in-flight one finished; the queued ones were not started');

  // A new runner on the same durable gets the nak'd ones after the stop delay, in order.
  const { runner: next } = run(tb, t, { handler: async (m) => (handled.push(text(m)), ack()) });
  await next.ready;
  await waitUntil(() => handled.length === 3, 4_000, 'redelivery to the next runner (before ack wait)');
  t.same(handled, ['a:1', 'a:2', 'a:3']);
});

void t.test('after a crash, newer messages wait for the redelivery of older ones', async (t) => {
  const tb = await withBus(t);
  // A runner that dies holding a:1 and a:2 unacked: its connection closes, nothing is nak'd.
  const deadBus = await connectBus({ url: tb.server.url, name: 'dead', logger: silentLogger });
  const { runner: dying } = run({ ...tb, bus: deadBus }, t, {
    ackWaitMs: 1_500,
    handler: () => new Promise<Outcome>(() => undefined), // never finishes
  });
  await dying.ready;
  for (const b of ['a:1', 'a:2']) await tb.bus.js.publish('match.0.event', bytes(b));
  await waitUntil(
    async () => (await tb.bus.jsm.consumers.info(STREAMS.MATCH, 'matcher-p0')).num_ack_pending === 2,
    10_000,
    'both pulled by the dying runner',
  );
  deadBus.nc.close().catch(() => undefined);

  // A newer message of the same user is stored before the next runner starts: the server would
  // hand it over at once, and a:1, a:2 only after their ack wait.
  await tb.bus.js.publish('match.0.event', bytes('a:3'));
  const handled: { body: string; at: number }[] = [];
  const startedAt = Date.now();
  const { runner } = run(tb, t, {
    ackWaitMs: 1_500,
    handler: async (m) => (handled.push({ body: text(m), at: Date.now() }), ack()),
  });
  await runner.ready;
  await waitUntil(() => handled.length === 3, 10_000, 'all three');
  t.same(
    handled.map((h) => h.body),
    ['a:1', 'a:2', 'a:3'],
    'in stream order although a:3 was available first',
  );
  t.ok(handled[2]!.at - startedAt < 6_000, 'the wait ends with the redeliveries, not at the deadline');
});

void t.test('a key waiting for a redelivery goes on once the message left the stream', async (t) => {
  const tb = await withBus(t);
  const handled: string[] = [];
  const settled: number[] = [];
  const { runner } = run(tb, t, {
    ackWaitMs: 1_000,
    maxDeliver: 1_000,
    onSettled: (seq) => settled.push(seq),
    handler: async (m): Promise<Outcome> => {
      handled.push(text(m));
      return text(m) === 'k:stuck' ? retry(200) : ack();
    },
  });
  await runner.ready;
  const stuck = await tb.bus.js.publish('match.0.event', bytes('k:stuck'));
  await waitUntil(() => handled.length >= 1, 10_000, 'the first delivery');
  // The message is deleted while the key waits for its redelivery; the key's next one waits.
  await tb.bus.jsm.streams.deleteMessage(STREAMS.MATCH, stuck.seq);
  const next = await tb.bus.js.publish('match.0.event', bytes('k:next'));
  await waitUntil(() => handled.includes('k:next'), 15_000, "the key's next message");
  t.ok(settled.includes(stuck.seq), 'the gone message is settled');
  t.ok(settled.includes(next.seq), 'the next one too');
});

void t.test(
  'a terminal message whose DLQ write fails holds its key until the record is written',
  async (t) => {
    const tb = await withBus(t);
    // No stream takes `late.matcher` yet: the first DLQ write fails.
    const handled: string[] = [];
    const { runner, metrics } = run(tb, t, {
      dlqSubject: 'late.matcher',
      handler: async (m) => {
        handled.push(text(m));
        return text(m) === 'a:1' ? terminal('bad_input') : ack();
      },
    });
    await runner.ready;
    for (const b of ['a:1', 'a:2', 'b:1']) await tb.bus.js.publish('match.0.event', bytes(b));
    const failed = async (): Promise<number> =>
      (await metrics.runnerMessages.get()).values.find((v) => v.labels.outcome === 'dlq_failed')?.value ?? 0;
    await waitUntil(async () => (await failed()) >= 1, 10_000, 'a failed dlq write');
    await tb.bus.jsm.streams.add({ name: 'LATE', subjects: ['late.>'] });

    await waitUntil(() => handled.length === 4, 15_000, 'a:1 again, then a:2');
    t.same(
      handled.filter((h) => h.startsWith('a:')),
      ['a:1', 'a:1', 'a:2'],
      'a:2 waited for the redelivery of a:1',
    );
    t.ok(handled.indexOf('b:1') < handled.lastIndexOf('a:1'), 'another key was not held');
    const m = await tb.bus.jsm.streams.getMessage('LATE', { last_by_subj: 'late.matcher' });
    t.equal(decodeDlqRecord(m!.data).reason, 'bad_input');
  },
);

void t.test('a DLQ record fits the server max payload whatever the message weighs', async (t) => {
  // A server that takes at most 64 KB per message.
  const dir = await mkdtemp(join(tmpdir(), 'cairn-maxpayload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const conf = join(dir, 'nats.conf');
  await writeFile(conf, 'max_payload: 65536\n');
  const server = await withNats(t, { args: ['-c', conf] });
  const config = loadConfig({ NATS_URL: server.url });
  const bus = await connectBus({ url: server.url, name: 'test', logger: silentLogger });
  t.teardown(() => bus.close());
  await provision(bus, config, silentLogger);
  const tb: TestBus = { server, bus, config };
  t.equal(bus.nc.info?.max_payload, 65_536);

  const { runner } = run(tb, t, { handler: async () => terminal('bad_input', 'd'.repeat(10_000)) });
  await runner.ready;
  // Headers that double in JSON (a quote is written \"), and a payload near the limit.
  const h = headers();
  h.set('X-Quotes', '"'.repeat(33_000));
  await bus.js.publish('match.0.event', bytes('a:heavy-headers'), { headers: h });
  await bus.js.publish('match.0.event', bytes(`b:${'p'.repeat(60_000)}`));
  await waitUntil(async () => (await dlqRecords(tb, 'dlq.matcher')).length === 2, 15_000, 'both records');
  const [heavy, big] = await dlqRecords(tb, 'dlq.matcher');
  t.same(heavy!.headers, {}, 'headers too heavy for a record are dropped');
  t.equal(heavy!.truncated, true);
  t.equal(Buffer.from(heavy!.payload, 'base64').toString(), 'a:heavy-headers', 'the payload is whole');
  t.equal(heavy!.detail?.length, 4_096, 'a long detail is cut');
  t.equal(big!.truncated, true);
  t.equal(big!.payloadBytes, 60_002);
  t.ok(Buffer.from(big!.payload, 'base64').byteLength > 30_000, 'most of the payload is kept');
  for (const r of [heavy!, big!]) t.ok(JSON.stringify(r).length < 65_536, 'each record fits');
});

// Retention of ended instances (DESIGN.md §5.10) on a real nats-server: an instance that ends gets
// a retention timer due CAIRN_INSTANCE_RETENTION after its end; when it fires, an every_time
// instance is removed (no value, no marker left in the bucket), a `once` one is compacted to a
// record that still refuses re-entry, and redelivered inputs stay idempotent either way. The
// stored instance stays small with large payloads (the applied memory's byte bound).
import t from 'tap';

import {
  BUCKETS,
  encodeKey,
  instanceCodec,
  instanceKvKey,
  publishJourneyVersion,
  STREAMS,
  TimerMessage,
  WATERMARK_KEY,
  type TimerRecord,
  watermarkCodec,
} from '../../../libs/bus/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { startTimer } from '../../../services/timer/index.js';
import { parseJourney, type Instance } from '../../../libs/journey/index.js';
import { retentionToken } from '../../../services/matcher/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { track, withMatcher, type MatcherHarness } from './helpers.js';

const RETENTION_MS = 2_000;

const ONCE = `
id: welcome
name: Welcome
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: hello, type: send, to: [crm], event: Welcome, payload: { plan: entry.properties.plan } }
`;

const FORM = `
id: form
name: Form
trigger: { event: form_sent }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: ack, type: send, to: [crm], event: Form Received }
`;

async function publish(h: MatcherHarness, text: string): Promise<void> {
  const parsed = parseJourney(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  await publishJourneyVersion(h.bus, parsed.journey);
}

/** A timer fired once more under a new message id (as a redelivery is): JetStream would drop a
 * repeat of the timer service's own id within the duplicate window. */
async function fireAgain(h: MatcherHarness, timer: TimerRecord, p: number): Promise<void> {
  await h.bus.js.publish(`match.${p}.timer`, TimerMessage.encode(timer), { msgID: `again:${timer.token}` });
}

async function stored(
  h: MatcherHarness,
  key: string,
): Promise<{ instance: Instance; bytes: number } | undefined> {
  const kv = await h.bus.store(BUCKETS.instances);
  const e = await kv.get(key);
  return e?.operation === 'PUT'
    ? { instance: instanceCodec.decode(e.value), bytes: e.value.length }
    : undefined;
}

void t.test(
  'once: compacted after its retention, re-entry still refused, redelivery idempotent',
  async (t) => {
    const h = await withMatcher(t, { CAIRN_INSTANCE_RETENTION: '2s' });
    await publish(h, ONCE);
    await h.start();
    const key = instanceKvKey('welcome', 'ann', '_');
    const signup = track('ann', 'signed_up', { plan: 'pro', notes: 'n'.repeat(5_000) });
    await h.sendEvent(signup);
    await waitUntil(async () => (await h.retentionTimers()).length === 1, 10_000, 'retention timer');
    const whole = await stored(h, key);
    t.equal(whole?.instance.status, 'completed');
    const [timer] = await h.retentionTimers();
    t.equal(timer?.value.token, retentionToken(whole!.instance.id));
    t.equal(timer?.value.at, whole!.instance.updatedAt + RETENTION_MS, 'due the retention after the end');
    t.equal(timer?.subject, `timers.${h.partition('ann')}.${Math.floor(timer!.value.at / 1_000)}`);
    t.equal((await h.deliveries()).length, 1);

    // The timer service fires it onto match.<p>.timer.
    await h.sendTimer(timer!.value, h.partition('ann'));
    await waitUntil(
      async () => (await stored(h, key))?.instance.compactedAt !== undefined,
      10_000,
      'compacted',
    );
    const compact = (await stored(h, key))!;
    t.match(compact.instance, { id: whole!.instance.id, status: 'completed', epoch: 1, stepId: null });
    t.same(compact.instance.context.entry.properties, {}, 'no event data kept');
    t.ok(
      compact.instance.applied.every((a) => a.commands.length === 0),
      'the applied inputs keep their ids only',
    );
    t.ok(compact.bytes < 1_000, `the record takes ${compact.bytes} bytes (was ${whole!.bytes})`);
    t.ok(whole!.bytes > 5_000);

    // Re-entry is refused; the original trigger redelivered is a duplicate: nothing is sent again.
    await h.sendEvent(track('ann', 'signed_up', { plan: 'basic' }));
    await h.sendEvent(signup, `${signup.messageId}:redelivered`);
    // The same retention timer again (a redelivery): nothing changes.
    await fireAgain(h, timer!.value, h.partition('ann'));
    await h.drained();
    t.equal((await h.deliveries()).length, 1, 'no second welcome');
    const refused = (await h.journal()).filter((r) => r.value.type === 'refused').map((r) => r.value.reason);
    t.same(refused, ['already_entered'], 'the new trigger is refused as already entered');
    t.same((await stored(h, key))?.instance, compact.instance, 'the record is unchanged');
    const retired = await h.metrics.registry.getSingleMetric('cairn_instances_retired_total')?.get();
    t.same(
      retired?.values.map((v) => [v.labels['action'], v.value]),
      [['compacted', 1]],
    );
  },
);

void t.test('every_time: removed after its retention, no marker; a newer instance is kept', async (t) => {
  const h = await withMatcher(t, { CAIRN_INSTANCE_RETENTION: '2s' });
  await publish(h, FORM);
  await h.start();
  const p = h.partition('bob');
  const key = instanceKvKey('form', 'bob', 'f-1');
  const first = track('bob', 'form_sent', { form_id: 'f-1' });
  await h.sendEvent(first);
  await waitUntil(async () => (await h.retentionTimers()).length === 1, 10_000, 'retention timer');
  const [timer] = await h.retentionTimers();
  t.equal((await stored(h, key))?.instance.status, 'completed');

  await h.sendTimer(timer!.value, p);
  await waitUntil(async () => (await stored(h, key)) === undefined, 10_000, 'removed');
  const bucket = await h.bus.jsm.streams.info(`KV_${BUCKETS.instances}`);
  t.equal(bucket.state.messages, 0, 'nothing left in the bucket, not even a delete marker');
  const index = await (await h.bus.store(BUCKETS.userInstances)).get(encodeKey('bob'));
  t.ok(!index || !new TextDecoder().decode(index.value).includes(key), 'the active index does not list it');

  // The key is entered again (a new instance); the first one's timer, fired again, keeps it.
  await h.sendEvent(track('bob', 'form_sent', { form_id: 'f-1' }));
  await waitUntil(async () => (await h.retentionTimers()).length === 2, 10_000, 'second retention timer');
  const second = (await stored(h, key))!.instance;
  await fireAgain(h, timer!.value, p);
  await h.drained();
  t.equal((await stored(h, key))?.instance.id, second.id, 'a retention timer never removes another instance');
  t.equal((await h.deliveries()).length, 2);
  t.equal((await h.bus.jsm.streams.info(STREAMS.MATCH)).state.messages, 0);
});

void t.test(
  'an instance that ended before retention existed is retired when an input reads it',
  async (t) => {
    const h = await withMatcher(t, { CAIRN_INSTANCE_RETENTION: '2s' });
    await publish(h, ONCE);
    await h.start();
    const key = instanceKvKey('welcome', 'eve', '_');
    await h.sendEvent(track('eve', 'signed_up', { plan: 'pro' }));
    await waitUntil(async () => (await h.retentionTimers()).length === 1, 10_000, 'retention timer');
    // As written by a version without retention: ended long ago, and no retention timer (another
    // instance id: the stream would drop the first timer's id again within its duplicate window).
    const old = { ...(await stored(h, key))!.instance, id: 'ended-long-ago' };
    old.updatedAt -= 30 * 86_400_000;
    await h.bus.jsm.streams.purge(STREAMS.TIMERS);
    const kv = await h.bus.store(BUCKETS.instances);
    await kv.put(key, instanceCodec.encode(old));

    const before = Date.now();
    await h.sendEvent(track('eve', 'signed_up', { plan: 'basic' }));
    await waitUntil(async () => (await h.retentionTimers()).length === 1, 10_000, 'retention scheduled');
    const [timer] = await h.retentionTimers();
    t.equal(timer?.value.token, retentionToken(old.id));
    t.ok(timer!.value.at >= before && timer!.value.at <= Date.now(), 'due now');
    await h.sendTimer(timer!.value, h.partition('eve'));
    await waitUntil(
      async () => (await stored(h, key))?.instance.compactedAt !== undefined,
      10_000,
      'compacted',
    );
    t.equal((await h.deliveries()).length, 1, 'the re-entry was refused');
  },
);

void t.test('with the timer service: an ended instance is gone after its retention', async (t) => {
  const h = await withMatcher(t, { CAIRN_INSTANCE_RETENTION: '2s' });
  await publish(h, FORM);
  await h.start();
  const timers = await startTimer({
    config: h.config,
    bus: h.bus,
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  t.teardown(() => timers.stop(1_000));
  // No ingest here: its watermark, which holds journey timers back, is set well ahead.
  const state = await h.bus.kv(BUCKETS.state);
  await state.put(WATERMARK_KEY, watermarkCodec.encode({ v: 1, at: Date.now() + 3_600_000 }));
  const key = instanceKvKey('form', 'dan', 'f-9');
  await h.sendEvent(track('dan', 'form_sent', { form_id: 'f-9' }));
  await waitUntil(async () => (await stored(h, key))?.instance.status === 'completed', 10_000, 'completed');
  const endedAt = (await stored(h, key))!.instance.updatedAt;
  await waitUntil(async () => (await stored(h, key)) === undefined, 15_000, 'removed by its retention');
  const gone = Date.now();
  t.ok(gone >= endedAt + RETENTION_MS, `removed ${gone - endedAt} ms after the end, not before 2 s`);
  t.equal((await h.deliveries()).length, 1);
});

void t.test('large payloads: the stored instance stays under the byte bound', async (t) => {
  const h = await withMatcher(t);
  await publish(
    h,
    FORM.replace(
      'event: Form Received }',
      'event: Form Received, payload: { blob: entry.properties.blob } }',
    ).replace('to: [crm]', 'to: [a, b, c, d, e]'),
  );
  await h.start();
  const blob = 'x'.repeat(25_000);
  const key = instanceKvKey('form', 'cat', 'same');
  // Each entry completes at once; the next re-enters the same key, carrying the memory over.
  for (let i = 0; i < 12; i++) {
    await h.sendEvent(track('cat', 'form_sent', { form_id: 'same', blob }));
    await waitUntil(async () => (await stored(h, key))?.instance.epoch === i + 1, 20_000, `entry ${i + 1}`);
  }
  const final = (await stored(h, key))!;
  t.equal(final.instance.applied.length, 8);
  t.equal((await h.deliveries()).length, 60, 'every entry sent to the five destinations');
  // The newest input's five payloads, the entry's blob in the context, 16 KiB of older commands.
  t.ok(final.bytes < 6 * blob.length + 16 * 1024 + 8_192, `the instance takes ${final.bytes} bytes`);
  t.comment(`stored instance: ${final.bytes} bytes after 12 entries of five 25 kB sends`);
});

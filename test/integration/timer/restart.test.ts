// After downtime the service catches up from its progress; fired buckets are purged.
import t from 'tap';

import { BUCKETS, STREAMS, timerProgressCodec, timerProgressKey } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { withTimers } from './helpers.js';

void t.test('timers due during downtime fire at once after a restart', async (t) => {
  const h = await withTimers(t);
  await h.setWatermark(Date.now() + 3_600_000);
  const first = await h.start();
  await h.publishTimer(0, Date.now() + 200, 'before-stop');
  await waitUntil(() => h.fired.length === 1, 5_000, 'first timer');
  await first.stop(1_000);

  const due = [Date.now() + 200, Date.now() + 700, Date.now() + 1_300];
  for (const [i, at] of due.entries()) await h.publishTimer(i % 2, at, `down-${i}`);
  await waitUntil(() => Date.now() >= Math.max(...due) + 300, 5_000, 'all due while down');
  t.equal(h.fired.length, 1, 'nothing fires while stopped');

  const restarted = Date.now();
  await h.start();
  await waitUntil(
    () => ['down-0', 'down-1', 'down-2'].every((k) => h.fired.some((f) => f.timer.token === k)),
    5_000,
    'overdue timers fired',
  );
  for (const f of h.fired.filter((x) => x.timer.token.startsWith('down-'))) {
    t.ok(f.firedAt >= f.timer.at, `${f.timer.token} not early`);
    t.ok(f.firedAt - restarted < 1_000, `${f.timer.token} fired at once (${f.firedAt - restarted} ms)`);
  }
  // A timer whose bucket was not finished before the stop may fire again: MATCH drops the
  // repeat by its Nats-Msg-Id, so the matcher sees each timer once.
  await waitUntil(
    async () => (await h.bus.jsm.streams.info(STREAMS.MATCH)).state.messages === 4,
    5_000,
    'four distinct timers in MATCH',
  );
  t.pass('each timer stored once in MATCH');
});

void t.test('a fired bucket is purged and recorded as progress', async (t) => {
  const h = await withTimers(t);
  await h.setWatermark(Date.now() + 3_600_000);
  const at = Date.now() + 300;
  const bucket = h.bucketOf(at);
  await h.publishTimer(1, at, 'p1');
  await h.publishTimer(1, at + 1, 'p2');
  const subject = `timers.1.${bucket}`;
  const count = async () =>
    (await h.bus.jsm.streams.info(STREAMS.TIMERS, { subjects_filter: subject })).state.subjects?.[subject] ??
    0;
  t.equal(await count(), 2, 'stored in its bucket');
  await h.start();
  await waitUntil(() => h.fired.length === 2, 5_000, 'fired');

  const state = await h.bus.kv(BUCKETS.state);
  const progress = async () => {
    const e = await state.get(timerProgressKey(1));
    return e && e.operation === 'PUT' ? timerProgressCodec.decode(e.value).bucket : -Infinity;
  };
  await waitUntil(async () => (await progress()) >= bucket, 5_000, 'progress recorded');
  await waitUntil(async () => (await count()) === 0, 5_000, 'bucket purged');
  t.pass('bucket purged and progress recorded');

  // A late timer published into the finished bucket still fires, and is purged too.
  await h.publishTimer(1, at + 2, 'late');
  await waitUntil(() => h.fired.length === 3, 5_000, 'late timer fired');
  t.equal(h.fired[2]!.timer.token, 'late');
  await waitUntil(async () => (await count()) === 0, 5_000, 'late timer purged');
});

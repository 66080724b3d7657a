// Durable retries: the backoff schedule (injected random source), the retry budget (an injected
// clock that jumps 4 h), and restarts during a retry wait, both the short wait (back on
// deliver.<p>) and the long one (parked in stream TIMERS, fired by the timer service).
import t from 'tap';

import { BUCKETS, putDestination, STREAMS } from '../../../libs/bus/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { startSender, type SenderClock } from '../../../services/sender/index.js';
import { startTimer } from '../../../services/timer/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { counterValue, job, withSender } from './helpers.js';

void t.test('the backoff schedule: 1 s, 2 s, 4 s with the jitter at its ceiling', async (t) => {
  const h = await withSender(t, { clock: { now: () => Date.now(), random: () => 1 } });
  const sink = await startHttpSink(() => 503);
  t.teardown(() => sink.close());
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url, retryBudgetMs: 8_000 });
  const j = job();
  await h.publishJob(j);
  await waitUntil(async () => (await h.deliveryDlq()).length === 1, 20_000, 'exhausted');
  const [rec] = await h.deliveryDlq();
  t.equal(rec!.reason, 'retry_budget_exhausted');
  // Attempts at 0, +1 s, +3 s, +7 s; the next (+8 s) would end at 15 s > 8 s.
  t.equal(rec!.attempts!.length, 4, 'four attempts');
  const at = rec!.attempts!.map((a) => a.at);
  const gaps = at.slice(1).map((x, i) => x - at[i]!);
  t.comment(`gaps between attempts: ${gaps.join(', ')} ms`);
  [1_000, 2_000, 4_000].forEach((want, i) => {
    t.ok(gaps[i]! >= want && gaps[i]! < want + 1_500, `gap ${i + 1} is ${gaps[i]} ms (~${want})`);
  });
  t.same(
    rec!.attempts!.map((a) => [a.n, a.outcome, a.status]),
    [
      [1, 'retry', 503],
      [2, 'retry', 503],
      [3, 'retry', 503],
      [4, 'retry', 503],
    ],
  );
  t.equal(sink.requests.length, 4);
});

void t.test('the default 4 h budget, on an injected clock that jumps ahead', async (t) => {
  let offset = 0;
  const clock: SenderClock = { now: () => Date.now() + offset, random: () => 0.5 };
  const h = await withSender(t, { clock });
  const sink = await startHttpSink(() => 500);
  t.teardown(() => sink.close());
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url });
  const j = job();
  await h.publishJob(j);
  await sink.waitFor(1);
  // Jump once the retry is parked (its copy came round early and was deferred).
  await waitUntil(
    async () => (await counterValue(h.metrics, 'cairn_delivery_deferrals_total', { reason: 'not_due' })) >= 1,
    5_000,
    'retry parked',
  );
  offset = 4 * 3_600_000 - 200; // the next attempt happens just before the 4 h mark
  await waitUntil(async () => (await h.deliveryDlq()).length === 1, 15_000, 'exhausted');
  const [rec] = await h.deliveryDlq();
  t.equal(rec!.reason, 'retry_budget_exhausted');
  t.equal(rec!.attempts!.length, 2);
  t.match(rec!.detail, /14400000 ms budget/);
  t.ok(
    rec!.attempts![1]!.at - rec!.attempts![0]!.at >= 4 * 3_600_000 - 200,
    'the second attempt is 4 h later',
  );
});

void t.test('restart of the sender during a short retry wait', async (t) => {
  const h = await withSender(t);
  const sink = await startHttpSink((_req, i) =>
    i === 0 ? { status: 503, headers: { 'retry-after': '2' } } : 200,
  );
  t.teardown(() => sink.close());
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url });
  const j = job();
  await h.publishJob(j);
  await sink.waitFor(1);
  await h.sender.stop(1_000);
  const metrics = createMetrics({ defaultMetrics: false });
  const again = await startSender({ config: h.config, bus: h.bus, logger: silentLogger, metrics });
  t.teardown(() => again.stop(1_000));
  const sent = await h.bus.kv(BUCKETS.sent);
  await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 15_000, 'delivered after restart');
  t.equal(sink.requests.length, 2, 'one retry, no duplicate');
  t.ok(sink.requests[1]!.at - sink.requests[0]!.at >= 1_950, 'Retry-After held across the restart');
});

void t.test('restart of sender and timer during a long retry wait (parked in TIMERS)', async (t) => {
  const h = await withSender(t, { shortWaitMs: 300 }, { CAIRN_TIMER_BUCKET: '1s' });
  const ctx = {
    config: h.config,
    bus: h.bus,
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
  };
  const timer = await startTimer(ctx);
  const sink = await startHttpSink((_req, i) =>
    i === 0 ? { status: 429, headers: { 'retry-after': '3' } } : 200,
  );
  t.teardown(() => sink.close());
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url });
  const j = job();
  await h.publishJob(j);
  await sink.waitFor(1);
  await waitUntil(
    async () => (await h.bus.jsm.streams.info(STREAMS.TIMERS)).state.messages === 1,
    5_000,
    'parked in TIMERS',
  );
  t.equal((await h.bus.jsm.streams.info(STREAMS.DELIVER)).state.messages, 0, 'nothing pending in DELIVER');
  await h.sender.stop(1_000);
  await timer.stop(1_000);

  const sender2 = await startSender(
    { ...ctx, metrics: createMetrics({ defaultMetrics: false }) },
    { shortWaitMs: 300 },
  );
  t.teardown(() => sender2.stop(1_000));
  const timer2 = await startTimer({ ...ctx, metrics: createMetrics({ defaultMetrics: false }) });
  t.teardown(() => timer2.stop(1_000));
  const sent = await h.bus.kv(BUCKETS.sent);
  await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 15_000, 'delivered after restart');
  const gap = sink.requests[1]!.at - sink.requests[0]!.at;
  t.ok(gap >= 2_950 && gap < 6_000, `the retry came at Retry-After (${gap} ms)`);
  t.equal(sink.requests.length, 2);
});

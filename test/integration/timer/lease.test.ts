// Partition leases in the timer service: of two timer services with one ordinal (each on its own
// connection, as two replicas in a rolling update), only the lease holder loads and fires; when it
// stops gracefully the other takes every partition at once and fires what comes next, once.
import t from 'tap';

import { connectBus } from '../../../libs/bus/index.js';
import { createMetrics, type Metrics } from '../../../libs/telemetry/index.js';
import { startTimer } from '../../../services/timer/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withTimers } from './helpers.js';

const value = async (m: Metrics, name: 'timersFired' | 'partitionsOwned'): Promise<number> =>
  (await m[name].get()).values.reduce((n, v) => n + v.value, 0);

void t.test('one timer service per partition; a graceful stop hands over at once', async (t) => {
  const h = await withTimers(t, { CAIRN_LEASE_TTL: '2s' });
  await h.setWatermark(Date.now() + 3_600_000);
  const a = await h.start();
  const busB = await connectBus({ url: h.server.url, name: 'timer-b', logger: silentLogger });
  t.teardown(() => busB.close());
  const metricsB = createMetrics({ defaultMetrics: false });
  const b = await startTimer({ config: h.config, bus: busB, logger: silentLogger, metrics: metricsB });
  t.teardown(() => b.stop(1_000));
  t.ok(a.isReady() && b.isReady(), 'both ready');
  t.equal(await value(h.metrics, 'partitionsOwned'), 2, 'the first holds both partitions');
  t.equal(await value(metricsB, 'partitionsOwned'), 0, 'the second waits');

  await h.publishTimer(0, Date.now() + 300, 'first-0');
  await h.publishTimer(1, Date.now() + 300, 'first-1');
  await waitUntil(() => h.fired.length >= 2, 10_000, 'timers fired');
  t.equal(await value(h.metrics, 'timersFired'), 2, 'by the holder');
  t.equal(await value(metricsB, 'timersFired'), 0, 'the second fired nothing');
  t.equal(b.pendingCount(), 0, 'and loaded nothing');

  const stopAt = Date.now();
  await a.stop(1_000);
  await waitUntil(async () => (await value(metricsB, 'partitionsOwned')) === 2, 5_000, 'handover');
  const handover = Date.now() - stopAt;
  t.comment(`handover ${handover} ms after the stop began`);
  t.ok(handover < 2_000, `taken at once, not after the lease ran out (${handover} ms)`);

  const firedByA = await value(h.metrics, 'timersFired');
  await h.publishTimer(1, Date.now() + 300, 'after');
  await waitUntil(() => h.fired.some((f) => f.timer.token === 'after'), 10_000, 'timer after the handover');
  await waitUntil(async () => (await value(metricsB, 'timersFired')) >= 1, 5_000, 'counted');
  t.equal(h.fired.filter((f) => f.timer.token === 'after').length, 1, 'fired once');
  t.equal(await value(h.metrics, 'timersFired'), firedByA, 'not by the stopped one');
});

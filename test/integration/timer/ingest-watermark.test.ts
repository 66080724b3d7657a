// Ingest's watermark gates the timers end to end (DESIGN.md §5.5): an event received before a
// timer's instant is routed before the timer fires, even when ingest was not keeping up.
import t from 'tap';

import { MatchEventMessage } from '../../../libs/bus/index.js';
import { startIngest } from '../../../services/ingest/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withTimers } from './helpers.js';

void t.test('a backlogged event is routed before the timer it precedes fires', async (t) => {
  const h = await withTimers(t);
  const order: string[] = [];
  const sub = h.bus.nc.subscribe('match.*.*', {
    callback: (_err, m) => {
      if (m.subject.endsWith('.event'))
        order.push(`event:${MatchEventMessage.decode(m.data).event.messageId}`);
      else order.push('timer');
    },
  });
  t.teardown(() => sub.unsubscribe());
  await h.start();

  // Ingest is down: the event waits in EVENTS, received before the timer's instant.
  await h.bus.js.publish(
    'events.track',
    new TextEncoder().encode(JSON.stringify({ userId: 'u-1', event: 'Order Completed', messageId: 'buy' })),
  );
  const at = Date.now() + 200;
  await h.publishTimer(0, at, 'hold-timeout');
  await waitUntil(() => Date.now() >= at + 500, 5_000, 'the instant passes');
  t.same(order, [], 'no watermark yet: the timer is held');

  const ingest = await startIngest({
    config: h.config,
    bus: h.bus,
    logger: silentLogger,
    metrics: h.metrics,
  });
  t.teardown(() => ingest.stop(1_000));
  await waitUntil(() => order.length === 2, 5_000, 'event and timer');
  t.same(order, ['event:buy', 'timer'], 'the event first');

  // With ingest idle, a new timer fires within 1 s of its instant.
  const next = Date.now() + 300;
  await h.publishTimer(1, next, 'idle');
  await waitUntil(() => h.fired.some((f) => f.timer.token === 'idle'), 5_000, 'idle timer');
  const f = h.fired.find((x) => x.timer.token === 'idle')!;
  t.ok(
    f.firedAt >= next && f.firedAt - next < 1_000,
    `on time with the live watermark (${f.firedAt - next} ms)`,
  );
});

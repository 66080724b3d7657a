// The watermark: the receive time up to which every event has been routed.
import t from 'tap';

import { readWatermark } from '../../../services/ingest/index.js';
import { RoutingTracker } from '../../../services/ingest/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

void t.test('the watermark advances with the clock when ingest is idle', async (t) => {
  const h = await withIngest(t);
  const start = Date.now();
  await waitUntil(async () => ((await readWatermark(h.bus)) ?? 0) >= start, 5_000, 'first watermark');
  const first = (await readWatermark(h.bus))!;
  t.ok(first <= Date.now() - 50 + 5, 'stays behind the clock');
  await waitUntil(async () => ((await readWatermark(h.bus)) ?? 0) >= first + 300, 5_000, 'watermark moves');

  // After an event, the watermark passes its receive time.
  await h.publish('events.track', { userId: 'w-1', event: 'Tick' });
  await waitUntil(() => h.routed.length === 1, 10_000, 'routed');
  const receivedAt = h.routed[0]!.event.receivedAt;
  await waitUntil(async () => ((await readWatermark(h.bus)) ?? 0) > receivedAt, 5_000, 'passes the event');
});

void t.test('the tracker holds each partition below its oldest event in flight', (t) => {
  const tr = new RoutingTracker(3);
  t.equal(tr.compute(undefined), undefined, 'nothing known yet');
  t.same(tr.compute(1_000), [1_000, 1_000, 1_000], 'idle: the clock');
  tr.begin(1, 2_000);
  tr.begin(2, 1_500);
  t.same(tr.compute(9_000), [1_499, 1_499, 1_499], 'partition unknown: holds every one');
  tr.route(2, 1);
  t.same(tr.compute(9_000), [1_999, 1_499, 1_999], 'known: only its own');
  tr.route(1, 0);
  t.same(tr.compute(9_000), [1_999, 1_499, 9_000], 'the others follow the clock');
  tr.end(2);
  t.same(tr.compute(undefined), [1_999, 2_000, 9_000], 'not idle: the last arrival, never backwards');
  tr.end(1);
  t.same(tr.compute(undefined), [2_000, 2_000, 9_000]);
  t.same(tr.compute(1_000), [2_000, 2_000, 9_000], 'never backwards');
  t.end();
});

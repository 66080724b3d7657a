// A timer waits for ingest's watermark to pass its instant (DESIGN.md §5.5).
import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { withTimers } from './helpers.js';

void t.test('a due timer is held until the watermark passes its instant', async (t) => {
  const h = await withTimers(t);
  const at = Date.now() + 300;
  await h.setWatermark(at - 1_000);
  await h.start();
  await h.publishTimer(0, at, 'held');
  await h.publishTimer(1, at - 2_000, 'before-watermark');

  await waitUntil(() => h.fired.length === 1, 5_000, 'the timer behind the watermark fires');
  t.equal(h.fired[0]!.timer.token, 'before-watermark');
  // Well past its instant, the other one is still held by the watermark.
  await waitUntil(() => Date.now() >= at + 700, 5_000, 'the clock passes the instant');
  t.equal(h.fired.length, 1, 'held while the watermark lags');

  await h.setWatermark(at - 1);
  await waitUntil(() => Date.now() >= at + 900, 5_000, 'some more time');
  t.equal(h.fired.length, 1, 'still held one ms before its instant');

  const released = Date.now();
  await h.setWatermark(at);
  await waitUntil(() => h.fired.length === 2, 5_000, 'released');
  const f = h.fired[1]!;
  t.equal(f.timer.token, 'held');
  t.ok(f.firedAt >= released, 'fired after the watermark moved');
  t.ok(f.firedAt - released < 500, `fired promptly (${f.firedAt - released} ms)`);
});

// A timer never fires early, and normally within 1 s after its instant (DESIGN.md §5.4).
import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { withTimers } from './helpers.js';

void t.test('timers fire to match.<p>.timer at their instant, not before, within 1 s', async (t) => {
  const h = await withTimers(t);
  await h.setWatermark(Date.now() + 3_600_000);
  const now = Date.now();
  // Stored before the service starts (loaded) ...
  const plan: [number, number, string][] = [
    [0, now + 400, 'a'],
    [1, now + 900, 'b'],
    [0, now - 5_000, 'overdue'],
    // Beyond the first load's horizon (2 buckets): found by a later load of the new buckets only.
    [1, now + 4_500, 'far'],
  ];
  for (const [p, at, token] of plan) await h.publishTimer(p, at, token);
  const svc = await h.start();
  t.ok(svc.isReady());
  // ... and published while it runs (followed live), in this and later buckets.
  const later: [number, number, string][] = [
    [1, Date.now() + 300, 'c'],
    [0, Date.now() + 1_600, 'd'],
    [1, Date.now() + 2_700, 'e'],
  ];
  for (const [p, at, token] of later) await h.publishTimer(p, at, token);
  const all = [...plan, ...later];

  await waitUntil(() => h.fired.length === all.length, 10_000, 'all timers fired');
  for (const [p, at, token] of all) {
    const f = h.fired.find((x) => x.timer.token === token);
    t.ok(f, `${token} fired`);
    if (!f) continue;
    t.equal(f.subject, `match.${p}.timer`, `${token} on its partition`);
    t.equal(f.msgId, `timer:${token}`);
    t.equal(f.timer.at, at);
    t.ok(f.firedAt >= at, `${token} not early (${f.firedAt - at} ms)`);
    if (token !== 'overdue') t.ok(f.firedAt - at < 1_000, `${token} within 1 s (${f.firedAt - at} ms)`);
  }
  t.equal((await h.metrics.timersFired.get()).values[0]?.value, all.length);
  t.equal(h.fired.filter((f) => f.timer.token === 'a').length, 1, 'fired once');
});

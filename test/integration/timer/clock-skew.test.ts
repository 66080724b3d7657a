// The NATS server's clock rules (receive times are its timestamps): a timer and an ingest host
// whose clocks are ahead or behind measure their offset and still fire timers on time, never
// early (DESIGN.md §5.4). The test's own clock is the server's (same machine).
import t from 'tap';

import { startIngest } from '../../../services/ingest/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withTimers } from './helpers.js';

for (const skewMs of [4_000, -4_000]) {
  const how = skewMs > 0 ? 'ahead' : 'behind';
  void t.test(`hosts whose clock is ${how} by ${Math.abs(skewMs)} ms fire timers on time`, async (t) => {
    const h = await withTimers(t, { CAIRN_MAX_CLOCK_SKEW: '1s' });
    const now = (): number => Date.now() + skewMs;
    await h.start({ now });
    const ingest = await startIngest(
      { config: h.config, bus: h.bus, logger: silentLogger, metrics: h.metrics },
      { now },
    );
    t.teardown(() => ingest.stop(1_000));

    const offset = (await h.metrics.clockOffset.get()).values[0]?.value ?? 0;
    t.ok(Math.abs(offset * 1_000 + skewMs) < 200, `offset measured (${Math.round(offset * 1_000)} ms)`);
    t.equal((await h.metrics.clockSkewExceeded.get()).values[0]?.value, 1, 'reported as skewed');

    const at = Date.now() + 1_500;
    await h.publishTimer(0, at, 'p0');
    await h.publishTimer(1, at + 200, 'p1');
    await waitUntil(() => h.fired.length === 2, 10_000, 'both timers fire');
    for (const f of h.fired) {
      const late = f.firedAt - f.timer.at;
      t.ok(late >= 0, `${f.timer.token} not early (${late} ms)`);
      t.ok(late < 1_000, `${f.timer.token} within 1 s`);
    }
  });
}

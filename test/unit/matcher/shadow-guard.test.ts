// The shadow step's guard: a shadow that throws or hangs never holds the live input longer than
// its budget, and each such input is counted by reason.
import t from 'tap';

import { createMetrics } from '../../../libs/telemetry/index.js';
import { guarded } from '../../../services/matcher/shadow.js';
import { silentLogger } from '../../helpers/bus.js';

async function failures(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const m = await metrics.registry.getSingleMetric('cairn_shadow_failures_total')?.get();
  return Object.fromEntries((m?.values ?? []).map((v) => [String(v.labels['reason']), v.value]));
}

void t.test('done, failed and late', async (t) => {
  const metrics = createMetrics({ defaultMetrics: false });
  const ctx = { metrics, log: silentLogger };
  t.equal(await guarded(ctx, 'cart', {}, () => Promise.resolve(), 1_000), 'done');
  t.equal(
    await guarded(ctx, 'cart', {}, () => Promise.reject(new Error('boom')), 1_000),
    'failed',
    'a throwing shadow does not throw',
  );
  let finish: () => void = () => undefined;
  const hanging = new Promise<void>((resolve) => (finish = resolve));
  const started = Date.now();
  t.equal(await guarded(ctx, 'cart', {}, () => hanging, 50), 'late', 'a hanging shadow is left behind');
  t.ok(Date.now() - started < 1_000, 'after its budget, not when it ends');
  finish();
  t.same(await failures(metrics), { error: 1, late: 1 });
});

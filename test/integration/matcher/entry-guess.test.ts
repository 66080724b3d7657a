// The trigger event of an every_time journey is applied without reading the instance first (a
// guess that its key is new, committed with `create`). When the instance exists after all —
// running, ended, or the same input again — the outcome must be exactly what a real read gives:
// the simulator's, record for record.
import t from 'tap';

import { publishJourneyVersion } from '../../../libs/bus/index.js';
import { compile, parseJourney, simulate, type NormalizedEvent } from '../../../libs/journey/index.js';
import { CART, track, withMatcher } from './helpers.js';

const parsed = parseJourney(CART);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const doc = parsed.journey;

const shape = (r: { type: string; inputId: string; instanceKey?: string; reason?: string }) =>
  `${r.inputId} ${r.type}${r.instanceKey ? ` ${r.instanceKey}` : ''}${r.reason ? ` (${r.reason})` : ''}`;

void t.test('an existing instance at a trigger key is read and applied as the simulator does', async (t) => {
  const h = await withMatcher(t);
  await publishJourneyVersion(h.bus, doc);
  await h.start();
  const t0 = Date.now();
  const events: NormalizedEvent[] = [
    track('ann', 'checkout_started', { cart_id: 'c1' }, t0), // new: the guess holds
    track('ann', 'checkout_started', { cart_id: 'c1' }, t0 + 10), // running at that key
    track('ann', 'purchase_completed', { cart_id: 'c1' }, t0 + 20), // thanks: it ends
    track('ann', 'checkout_started', { cart_id: 'c1' }, t0 + 30), // ended at that key
    track('ann', 'checkout_started', { cart_id: 'c2' }, t0 + 40), // another new key
  ];
  for (const e of events) {
    await h.sendEvent(e);
    await h.drained();
  }
  const again = events[4]!;
  await h.sendEvent(again, 'redelivered-c2'); // the same input again, under a new stream id
  await h.drained();

  const expected = simulate(compile(doc, { version: 1 }), events, { until: t0 + 500 });
  const got = (await h.journal()).map((r) => shape(r.value));
  t.same(got, expected.journal.map(shape), 'the same records, in the same order');
  t.same(
    (await h.deliveries()).map((d) => d.value.deliveryId),
    expected.sends.map((s) => s.deliveryId),
    'the same deliveries',
  );
  const conflicts = (await h.metrics.kvCasConflicts.get()).values.reduce((n, v) => n + v.value, 0);
  t.equal(conflicts, 0, 'a wrong guess is not counted as a conflict between writers');
});

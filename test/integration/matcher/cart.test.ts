// The matcher on a real nats-server: entry starts a timer in the right bucket, a purchase in the
// hold sends thanks, a redelivered input sends nothing twice, the fired timer sends the nudge,
// a stale timer is journaled as ignored; journeys published or archived while it runs apply.
import t from 'tap';

import { archiveJourney, publishJourneyVersion } from '../../../libs/bus/index.js';
import { parseJourney, type JourneyDocument } from '../../../libs/journey/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { CART, track, withMatcher } from './helpers.js';

function journey(text: string): JourneyDocument {
  const r = parseJourney(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.journey;
}

void t.test('cart abandonment: timer, thanks, no duplicates, nudge, stale timer', async (t) => {
  const h = await withMatcher(t);
  await publishJourneyVersion(h.bus, journey(CART));
  const matcher = await h.start();
  t.ok(matcher.isReady());
  t.equal(matcher.activeVersion('cart'), 1);

  // Entry: a timer at receivedAt + 1 s, in its bucket of partition p.
  const alice = 'alice';
  const pa = h.partition(alice);
  const checkout = track(alice, 'checkout_started', { cart_id: 'c-1' });
  await h.sendEvent(checkout);
  await waitUntil(async () => (await h.timers()).length === 1, 10_000, 'timer stored');
  const [timer] = await h.timers();
  t.equal(timer?.value.at, checkout.receivedAt + 1_000);
  t.equal(timer?.subject, `timers.${pa}.${Math.floor((checkout.receivedAt + 1_000) / 1_000)}`);
  t.equal(timer?.value.instanceKey, 'c-1');
  t.equal(timer?.value.userKey, alice);

  // A purchase before the deadline: the thanks send, journaled.
  const purchase = track(alice, 'purchase_completed', { cart_id: 'c-1' }, checkout.receivedAt + 100);
  await h.sendEvent(purchase);
  await waitUntil(async () => (await h.deliveries()).length === 1, 10_000, 'thanks job');
  const [thanks] = await h.deliveries();
  t.equal(thanks?.subject, `deliver.${pa}`);
  t.equal(thanks?.value.stepKey.stepId, 'thanks');
  t.same(thanks?.value.stepKey, { journeyId: 'cart', version: 1, stepId: 'thanks' });
  t.equal(thanks?.value.destination, 'hook');
  t.equal(thanks?.value.userKey, alice);
  await h.drained();
  const types = (await h.journal()).map((r) => r.value.type);
  t.ok(types.includes('entered'), 'entered journaled');
  t.ok(types.includes('sent') || types.includes('step'), 'the send journaled');
  t.ok(
    (await h.journal()).every((r) => r.subject === `journal.cart.${pa}`),
    'journal on journal.<journey>.<p>',
  );
  const journalCount = (await h.journal()).length;
  const metricTotal = (await h.metrics.journal.get()).values.reduce((n, v) => n + v.value, 0);
  t.equal(metricTotal, journalCount, 'journal records counted');

  // The same inputs again (new Nats-Msg-Ids, as after a redelivery): nothing new.
  await h.sendEvent(purchase, 'again-1');
  await h.sendEvent(checkout, 'again-2');
  await h.drained();
  t.equal((await h.deliveries()).length, 1, 'no duplicate deliver job');
  t.equal((await h.timers()).length, 1, 'no second timer');

  // Bob abandons: his timer, fired to match.<p>.timer, sends the nudge.
  const bob = 'bob';
  const pb = h.partition(bob);
  await h.sendEvent(track(bob, 'checkout_started', { cart_id: 'c-2' }));
  await waitUntil(async () => (await h.timers()).length === 2, 10_000, 'bob timer');
  const bobTimer = (await h.timers()).find((x) => x.value.userKey === bob);
  if (!bobTimer) throw new Error('no timer for bob');
  await h.sendTimer(bobTimer.value, pb);
  await waitUntil(async () => (await h.deliveries()).length === 2, 10_000, 'nudge job');
  const nudge = (await h.deliveries()).find((d) => d.value.userKey === bob);
  t.equal(nudge?.value.stepKey.stepId, 'nudge');
  t.equal(nudge?.subject, `deliver.${pb}`);

  // A stale token: nothing sent, an 'ignored' journal record.
  await h.sendTimer({ ...bobTimer.value, token: 'stale-token' }, pb);
  await waitUntil(
    async () =>
      (await h.journal()).some((r) => r.value.type === 'ignored' && r.value.reason === 'stale_timer'),
    10_000,
    'ignored journal',
  );
  await h.drained();
  t.equal((await h.deliveries()).length, 2, 'a stale timer sends nothing');

  // A message that does not decode goes to the DLQ as bad_message, and the pipeline goes on.
  await h.bus.js.publish(`match.${pa}.event`, new Uint8Array([1, 2, 3]), { msgID: 'garbage' });
  await h.drained();
  await waitUntil(
    async () =>
      ((await h.metrics.dlq.get()).values.find((v) => v.labels['reason'] === 'bad_message')?.value ?? 0) ===
      1,
    10_000,
    'bad_message in dlq',
  );
});

void t.test('journeys published or archived while the matcher runs', async (t) => {
  const h = await withMatcher(t);
  const matcher = await h.start();
  t.equal(matcher.activeVersion('cart'), undefined);

  await publishJourneyVersion(h.bus, journey(CART));
  await waitUntil(() => matcher.activeVersion('cart') === 1, 10_000, 'journey loaded');
  const carol = 'carol';
  const checkout = track(carol, 'checkout_started', { cart_id: 'c-9' });
  await h.sendEvent(checkout);
  await h.sendEvent(track(carol, 'purchase_completed', { cart_id: 'c-9' }, checkout.receivedAt + 10));
  await waitUntil(async () => (await h.deliveries()).length === 1, 10_000, 'thanks job');

  await archiveJourney(h.bus, 'cart');
  await waitUntil(() => matcher.activeVersion('cart') === undefined, 10_000, 'archive seen');
  await h.sendEvent(track('dave', 'checkout_started', { cart_id: 'c-10' }));
  await h.drained();
  t.notOk(
    (await h.timers()).some((x) => x.value.userKey === 'dave'),
    'no entry after archiving',
  );
  t.notOk(
    (await h.journal()).some((r) => r.value.userKey === 'dave' && r.value.type === 'entered'),
    'not entered',
  );
});

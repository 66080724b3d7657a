// End to end, in one process: events published to events.<type> flow through ingest, matcher,
// timer and sender to a real local webhook, against a real nats-server. The simulator, fed the
// same events, is the oracle: the sink must see exactly the deliveries it predicts.
import t from 'tap';

import {
  deliveryIdOf,
  journey,
  oracle,
  publishEvents,
  publishJourneys,
  startPipeline,
  type ProducerEvent,
} from '../helpers/pipeline.js';

const CART = `
id: cart
name: Cart abandonment
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
exit:
  - { event: order_refunded, sameKey: true }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 2s, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Cart Abandoned
    payload: { email: profile.traits.email, cart_id: entry.properties.cart_id }
    next: end
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], event: Form Submitted }
`;

void t.test('journeys react to events end to end, exactly as the simulator predicts', async (t) => {
  const { bus, sink } = await startPipeline(t);
  const cart = journey(CART);
  const forward = journey(FORWARD);
  await publishJourneys(bus, cart, forward);
  const ids = ['u1', 'u2', 'u3'];
  const events: ProducerEvent[] = [];
  for (const userId of ids) {
    events.push([
      'identify',
      { userId, messageId: `${userId}-id`, traits: { email: `${userId}@example.com` } },
    ]);
    events.push([
      'track',
      { userId, messageId: `${userId}-f`, event: 'form_submitted', properties: { form_id: 'f1' } },
    ]);
    events.push([
      'track',
      { userId, messageId: `${userId}-c1`, event: 'checkout_started', properties: { cart_id: 'c1' } },
    ]);
    events.push([
      'track',
      { userId, messageId: `${userId}-c2`, event: 'checkout_started', properties: { cart_id: 'c2' } },
    ]);
    events.push([
      'track',
      { userId, messageId: `${userId}-p1`, event: 'purchase_completed', properties: { cart_id: 'c1' } },
    ]);
  }
  await publishEvents(bus, events);

  // The oracle: the same events through the simulator.
  const timeline = oracle([cart, forward], events);
  const expected = timeline.sends.map((s) => s.deliveryId).sort();
  t.equal(expected.length, 9, 'the simulator predicts a form, a thanks and a nudge per user');

  const arrived = await sink.waitFor(expected.length, 20_000);
  // The sender names every delivery in `idempotency-key` (and `webhook-id` when it signs).
  const got = arrived.map(deliveryIdOf).sort();
  t.same(got, expected, 'exactly the predicted delivery ids');
  t.equal(new Set(got).size, got.length, 'no delivery id twice');

  const nudges = arrived.filter((r) => (r.body as { email?: string }).email !== undefined);
  t.same(
    nudges.map((r) => (r.body as { cart_id: string }).cart_id).sort(),
    ['c2', 'c2', 'c2'],
    'only the unpaid carts are nudged',
  );
  t.same(
    nudges.map((r) => (r.body as { email: string }).email).sort(),
    ids.map((u) => `${u}@example.com`),
    'nudges carry the profile email',
  );
});

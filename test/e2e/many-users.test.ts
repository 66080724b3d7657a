// 1,000 users through cart abandonment at once: per-user order holds (a purchase processed before
// its checkout would turn a thanks into a nudge), and the sink sees exactly the deliveries the
// simulator predicts — no more, no fewer, none twice.
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
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: modified, event: cart_modified, restart: true }
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

const USERS = 1000;

void t.test('1,000 concurrent users: exactly the predicted deliveries', async (t) => {
  const { bus, sink } = await startPipeline(t, { CAIRN_PARTITIONS: '8' });
  const cart = journey(CART);
  await publishJourneys(bus, cart);

  const events: ProducerEvent[] = [];
  const track = (userId: string, n: number, event: string): ProducerEvent => [
    'track',
    { userId, messageId: `${userId}-${n}`, event, properties: { cart_id: `c-${userId}` } },
  ];
  for (let i = 0; i < USERS; i++) {
    const userId = `user-${i}`;
    events.push([
      'identify',
      { userId, messageId: `${userId}-0`, traits: { email: `${userId}@example.com` } },
    ]);
  }
  // Interleaved across users, in order per user: start, modify (restarts the hold), and for two
  // users in three, purchase.
  for (const [n, name] of [
    [1, 'checkout_started'],
    [2, 'cart_modified'],
    [3, 'purchase_completed'],
  ] as const) {
    for (let i = 0; i < USERS; i++) {
      if (name === 'purchase_completed' && i % 3 === 2) continue;
      events.push(track(`user-${i}`, n, name));
    }
  }

  const timeline = oracle([cart], events);
  const expected = timeline.sends.map((s) => s.deliveryId).sort();
  t.equal(expected.length, USERS, 'one delivery per user predicted');
  t.equal(
    timeline.sends.filter((s) => s.payload['email'] !== undefined).length,
    Math.floor(USERS / 3),
    'a third of them nudged',
  );

  await publishEvents(bus, events);
  // Wait for every expected delivery, then a little longer to catch any extra one.
  await sink.waitFor(USERS, 90_000);
  await new Promise((r) => setTimeout(r, 3000));
  const got = sink.requests.map(deliveryIdOf).sort();
  t.equal(new Set(got).size, got.length, 'no delivery id twice');
  t.equal(got.length, expected.length, 'as many deliveries as predicted');
  t.same(got, expected, 'exactly the predicted delivery ids');

  const nudges = sink.requests.filter((r) => (r.body as { email?: string }).email !== undefined);
  const nudgedUsers = nudges.map((r) => (r.body as { cart_id: string }).cart_id).sort();
  const expectedNudged = Array.from({ length: USERS }, (_, i) => i)
    .filter((i) => i % 3 === 2)
    .map((i) => `c-user-${i}`)
    .sort();
  t.same(nudgedUsers, expectedNudged, 'only the users who did not purchase are nudged');
});

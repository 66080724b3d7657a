// Segment's documented use cases (reference: segment-etj.md §a.13), end to end with second-scale
// durations: events published to events.track / events.identify produce exactly the webhook
// requests the simulator predicts — same delivery ids, same payloads — and nothing else.
// (Real-time forwarding is in pipeline.test.ts; cart abandonment with the timer reset on
// cart_modified in many-users.test.ts.)
import t from 'tap';

import { waitUntil } from '../helpers/bus.js';
import {
  deliveryIdOf,
  journey,
  oracle,
  publishEvent,
  publishJourneys,
  startPipeline,
  type ProducerEvent,
} from '../helpers/pipeline.js';

const APPLICATION = `
id: application
name: Application abandonment
trigger: { event: application_started }
entry: { mode: every_time, uniqueBy: properties.application_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: submitted, event: application_submitted, next: thanks }
    timeout: { after: 3s, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Finish Your Application
    payload: { application_id: entry.properties.application_id, email: profile.traits.email }
    next: end
  - { id: thanks, type: send, to: [sink], event: Application Received, next: end }
  - { id: end, type: exit }
`;

// Browse abandonment with chained holds: viewed -> (added to cart?) -> (ordered?).
const BROWSE = `
id: browse
name: Browse abandonment
trigger: { event: product_viewed }
entry: { mode: every_time, uniqueBy: properties.product_id }
exit:
  - { event: account_deleted }
steps:
  - id: viewed
    type: hold_until
    branches:
      - { id: added, event: product_added, next: in-cart }
    timeout: { after: 3s, next: still-interested }
  - { id: still-interested, type: send, to: [sink], event: Still Interested, next: end }
  - id: in-cart
    type: hold_until
    branches:
      - { id: ordered, event: order_completed, next: end }
    timeout: { after: 3s, next: cart-reminder }
  - { id: cart-reminder, type: send, to: [sink], event: Your Cart Misses You, next: end }
  - { id: end, type: exit }
`;

// Re-engagement with nudges at intervals, until the user comes back (an exit rule).
const REENGAGE = `
id: reengage
name: Re-engagement
trigger: { event: subscription_paused }
entry: { mode: once }
exit:
  - { event: app_opened }
steps:
  - { id: first-wait, type: delay, after: 2s }
  - { id: nudge-1, type: send, to: [sink], event: We Miss You }
  - { id: second-wait, type: delay, after: 2s }
  - { id: nudge-2, type: send, to: [sink], event: Come Back Offer }
`;

// Multi-step onboarding: account -> payment method -> trial ended -> subscription.
const ONBOARDING = `
id: onboarding
name: Trial to subscription
trigger: { event: account_created }
entry: { mode: once }
steps:
  - id: need-payment
    type: hold_until
    branches:
      - { id: paid, event: payment_method_added, next: trial }
    timeout: { after: 3s, next: ask-payment }
  - { id: ask-payment, type: send, to: [sink], event: Add A Payment Method, next: done }
  - id: trial
    type: hold_until
    branches:
      - { id: trial-ended, event: trial_ended, next: subscribe }
    timeout: { after: 5s, next: done }
  - id: subscribe
    type: hold_until
    branches:
      - { id: subscribed, event: subscription_started, next: welcome }
    timeout: { after: 3s, next: last-chance }
  - { id: welcome, type: send, to: [sink], event: Welcome Subscriber, next: done }
  - { id: last-chance, type: send, to: [sink], event: Last Chance, next: done }
  - { id: done, type: exit }
`;

const track = (
  userId: string,
  n: number,
  event: string,
  properties: Record<string, unknown> = {},
): ProducerEvent => ['track', { userId, messageId: `${userId}-${n}-${event}`, event, properties }];
const identify = (userId: string): ProducerEvent => [
  'identify',
  { userId, messageId: `${userId}-identify`, traits: { email: `${userId}@example.com` } },
];

/** Timed events: [offset ms from the start, event]. Completions come 0.5-1 s after what they
 * complete and well before any deadline (>= 2 s), so real publishing jitter cannot flip them. */
const SCRIPT: Array<[number, ProducerEvent]> = [
  [0, identify('ana')],
  [0, identify('bo')],
  [0, identify('cy')],
  [0, identify('di')],
  // Application: ana submits, bo abandons (nudge with his email), cy starts two and submits one.
  [0, track('ana', 1, 'application_started', { application_id: 'a1' })],
  [0, track('bo', 1, 'application_started', { application_id: 'b1' })],
  [0, track('cy', 1, 'application_started', { application_id: 'c1' })],
  [0, track('cy', 2, 'application_started', { application_id: 'c2' })],
  [500, track('ana', 2, 'application_submitted', { application_id: 'a1' })],
  [500, track('cy', 3, 'application_submitted', { application_id: 'c2' })],
  // Browse: ana only views; bo adds but does not order; cy adds and orders.
  [0, track('ana', 3, 'product_viewed', { product_id: 'p1' })],
  [0, track('bo', 2, 'product_viewed', { product_id: 'p2' })],
  [0, track('cy', 4, 'product_viewed', { product_id: 'p3' })],
  [500, track('bo', 3, 'product_added', { product_id: 'p2' })],
  [500, track('cy', 5, 'product_added', { product_id: 'p3' })],
  [1000, track('cy', 6, 'order_completed', { product_id: 'p3' })],
  // ed views two products, then deletes the account: the exit rule ends both, nothing is sent.
  [0, track('ed', 1, 'product_viewed', { product_id: 'p4' })],
  [0, track('ed', 2, 'product_viewed', { product_id: 'p5' })],
  [500, track('ed', 3, 'account_deleted')],
  // Re-engagement: di never comes back (two nudges); ana comes back before the first.
  [0, track('di', 1, 'subscription_paused')],
  [0, track('ana', 4, 'subscription_paused')],
  [700, track('ana', 5, 'app_opened')],
  // Onboarding: di goes all the way; bo never adds a payment method; cy ends the trial, no sub.
  [0, track('di', 2, 'account_created')],
  [0, track('bo', 4, 'account_created')],
  [0, track('cy', 7, 'account_created')],
  [500, track('di', 3, 'payment_method_added')],
  [500, track('cy', 8, 'payment_method_added')],
  [1000, track('di', 4, 'trial_ended')],
  [1000, track('cy', 9, 'trial_ended')],
  [1500, track('di', 5, 'subscription_started')],
];

/** The payload without the fields that carry real (not simulated) times. */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (['timestamp', 'receivedAt', 'sentAt', 'originalTimestamp'].includes(k)) continue;
    out[k] = timeless(v);
  }
  return out;
}

void t.test('the documented use cases deliver exactly what the simulator predicts', async (t) => {
  const { bus, sink } = await startPipeline(t);
  const docs = [APPLICATION, BROWSE, REENGAGE, ONBOARDING].map(journey);
  await publishJourneys(bus, ...docs);

  const timeline = oracle(
    docs,
    SCRIPT.map(([, e]) => e),
    SCRIPT.map(([at]) => at),
  );
  const expected = new Map(timeline.sends.map((s) => [s.deliveryId, s]));
  const names = timeline.sends.map((s) => {
    const p = s.payload as { event?: string; userId?: string; email?: string; application_id?: string };
    return p.event === undefined ? `${p.email}:${p.application_id}` : `${p.userId}:${p.event}`;
  });
  t.same(
    names.sort(),
    [
      'ana:Application Received',
      'ana:Still Interested',
      'bo:Add A Payment Method',
      'bo:Your Cart Misses You',
      'cy:Application Received',
      'cy:Last Chance',
      'di:Come Back Offer',
      'di:We Miss You',
      'di:Welcome Subscriber',
      'bo@example.com:b1',
      'cy@example.com:c1',
    ].sort(),
    'the oracle predicts what the use cases are about',
  );

  const started = Date.now();
  for (const [at, event] of SCRIPT) {
    const wait = started + at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await publishEvent(bus, event);
  }
  await sink.waitFor(expected.size, 30_000);
  // Past the longest path (3 s + 5 s + 3 s holds would be the worst), nothing else arrives.
  await waitUntil(() => Date.now() - started > 9_000, 15_000, 'quiet period');

  const got = sink.requests.map(deliveryIdOf);
  t.same([...got].sort(), [...expected.keys()].sort(), 'exactly the predicted deliveries, none twice');
  for (const r of sink.requests) {
    const want = expected.get(deliveryIdOf(r));
    if (!want) continue;
    t.same(timeless(r.body), timeless(want.payload), `payload of ${deliveryIdOf(r)}`);
  }
});

// End to end, in one process: events published to events.<type> flow through ingest, matcher,
// timer and sender to a real local webhook, against a real nats-server. The simulator, fed the
// same events, is the oracle: the sink must see exactly the deliveries it predicts.
import t from 'tap';

import {
  publishJourneyVersion,
  putDestination,
  parseDestinationFile,
  type Bus,
} from '../../libs/bus/index.js';
import {
  compile,
  makeEvent,
  parseJourney,
  simulate,
  type JourneyDocument,
} from '../../libs/journey/index.js';
import { createMetrics } from '../../libs/telemetry/index.js';
import { startIngest } from '../../services/ingest/index.js';
import { startMatcher } from '../../services/matcher/index.js';
import { startSender } from '../../services/sender/index.js';
import { startTimer } from '../../services/timer/index.js';
import { silentLogger, waitUntil, withBus } from '../helpers/bus.js';
import { startHttpSink, type RecordedRequest } from '../helpers/http-sink.js';

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

function journey(text: string): JourneyDocument {
  const parsed = parseJourney(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.journey;
}

async function publishEvent(bus: Bus, type: string, body: Record<string, unknown>): Promise<void> {
  await bus.js.publish(`events.${type}`, JSON.stringify({ type, ...body }));
}

void t.test('journeys react to events end to end, exactly as the simulator predicts', async (t) => {
  const { bus, config } = await withBus(t, {
    CAIRN_PARTITIONS: '4',
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
  });
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const metrics = createMetrics();
  const ctx = { config, bus, logger: silentLogger, metrics };
  const services = [
    await startIngest(ctx),
    await startMatcher(ctx),
    await startTimer(ctx),
    await startSender(ctx),
  ];
  t.teardown(async () => {
    for (const s of services.reverse()) await s.stop(2000);
  });
  await waitUntil(() => services.every((s) => s.isReady()), 10_000, 'services ready');

  await putDestination(bus, parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook` }));
  const cart = journey(CART);
  const forward = journey(FORWARD);
  await publishJourneyVersion(bus, cart);
  await publishJourneyVersion(bus, forward);
  const ids = ['u1', 'u2', 'u3'];
  const events: Array<[string, Record<string, unknown>]> = [];
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
  for (const [type, body] of events) await publishEvent(bus, type, body);

  // The oracle: the same events through the simulator.
  const start = Date.UTC(2026, 0, 1);
  const timeline = simulate(
    [compile(cart, { version: 1 }), compile(forward, { version: 1 })],
    events.map(([type, body], i) =>
      makeEvent({
        type: type as 'track' | 'identify',
        name: type === 'track' ? String(body['event']) : type,
        userId: String(body['userId']),
        messageId: String(body['messageId']),
        properties: (body['properties'] as Record<string, unknown>) ?? {},
        traits: (body['traits'] as Record<string, unknown>) ?? {},
        at: start + i,
      }),
    ),
  );
  const expected = timeline.sends.map((s) => s.deliveryId).sort();
  t.equal(expected.length, 9, 'the simulator predicts a form, a thanks and a nudge per user');

  const arrived = await sink.waitFor(expected.length, 20_000);
  // The sender names every delivery in `idempotency-key` (and `webhook-id` when it signs).
  const got = arrived.map((r: RecordedRequest) => String(r.headers['idempotency-key'])).sort();
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

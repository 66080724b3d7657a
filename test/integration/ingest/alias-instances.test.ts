// What alias does to an instance started under the anonymous id (docs/ingest.md): it stays
// keyed by that id; later events of the id reach the user's instances instead, so the old one
// finishes by its timeout; at send time it reads the person's canonical profile.
import t from 'tap';

import { publishJourneyVersion } from '../../../libs/bus/index.js';
import { parseJourney } from '../../../libs/journey/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startPipeline } from '../../helpers/pipeline.js';

const CART = `
id: cart
name: Cart
trigger: { event: Cart Created }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: paid, event: Paid, next: thanks }
    timeout: { after: 2s, next: nudge }
  - { id: nudge, type: send, to: [sink], event: Nudge, payload: { kind: journey.id, email: profile.traits.email, cart: entry.properties.cart_id, step: journey.instanceKey }, next: end }
  - { id: thanks, type: send, to: [sink], event: Thanks, payload: { thanks: entry.properties.cart_id }, next: end }
  - { id: end, type: exit }
`;

void t.test(
  'an instance under the anonymous id runs to its timeout and reads the canonical profile',
  async (t) => {
    const { bus, sink } = await startPipeline(t);
    const parsed = parseJourney(CART);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    await publishJourneyVersion(bus, parsed.journey);
    const pub = (type: string, body: Record<string, unknown>) =>
      bus.js.publish(`events.${type}`, JSON.stringify({ type, ...body }));

    await pub('track', {
      anonymousId: 'anon-1',
      event: 'Cart Created',
      messageId: 'c1',
      properties: { cart_id: 'c1' },
    });
    const instances = await bus.kv('instances');
    const keys = async () => {
      const out: string[] = [];
      for await (const k of await instances.keys()) out.push(k);
      return out;
    };
    const anonKey = Buffer.from('anon-1').toString('base64url');
    await waitUntil(
      async () => (await keys()).some((k) => k.includes(anonKey)),
      10_000,
      'anonymous instance',
    );

    await pub('alias', { anonymousId: 'anon-1', userId: 'u1', previousId: 'anon-1', messageId: 'a1' });
    await pub('identify', { userId: 'u1', traits: { email: 'u1@example.com' }, messageId: 'i1' });
    // The payment under the anonymous id now belongs to u1, who has no instance for c1: no Thanks.
    await pub('track', {
      anonymousId: 'anon-1',
      event: 'Paid',
      messageId: 'p1',
      properties: { cart_id: 'c1' },
    });
    // u1's own cart, entered and paid under the user key.
    await pub('track', {
      userId: 'u1',
      event: 'Cart Created',
      messageId: 'c2',
      properties: { cart_id: 'c2' },
    });
    await pub('track', {
      anonymousId: 'anon-1',
      event: 'Paid',
      messageId: 'p2',
      properties: { cart_id: 'c2' },
    });

    const arrived = await sink.waitFor(2, 15_000);
    const bodies = arrived.map((r) => r.body as Record<string, unknown>);
    t.match(
      bodies.find((b) => b['thanks'] !== undefined),
      { thanks: 'c2' },
      'a payment sent under the anonymous id reaches the user instance',
    );
    t.match(
      bodies.find((b) => b['cart'] === 'c1'),
      { email: 'u1@example.com' },
      'the anonymous instance timed out and read the canonical profile',
    );
    t.equal(arrived.length, 2);
    t.ok(
      (await keys()).some((k) => k.includes(anonKey)),
      'the anonymous instance is still keyed by the anonymous id',
    );
  },
);

// A stuck shadow never delays the live version (real nats-server, real local webhook sink): every
// read of a shadow instance is held, so the shadow cannot decide; one user's six inputs are still
// decided and delivered live at once, one after the other, and once the reads go on the shadow
// catches up on the same inputs, in the user's order.
import t from 'tap';

import {
  BUCKETS,
  instanceCodec,
  JournalMessage,
  publishShadowVersion,
  STREAMS,
  type Bus,
  type KvStore,
} from '../../../libs/bus/index.js';
import type { JournalRecord } from '../../../libs/journey/index.js';
import { shadowKvKey } from '../../../services/matcher/shadow.js';
import { waitUntil } from '../../helpers/bus.js';
import { journey, publishEvent, publishJourneys, startPipeline } from '../../helpers/pipeline.js';

const CART = `
id: cart
name: Cart
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: order_completed, next: thanks }
    timeout: { after: 1h, next: end }
  - { id: thanks, type: send, to: [sink], payload: { cart: entry.properties.cart_id }, next: end }
  - { id: end, type: exit }
`;

/** Reads of shadow instances (`_shadow.` keys of KV instances) wait while the gate is shut. */
class Gate {
  held = 0;
  private open = false;
  private waiters: (() => void)[] = [];

  async pass(): Promise<void> {
    if (this.open) return;
    this.held++;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.open = true;
    for (const w of this.waiters.splice(0)) w();
  }

  wrap(bus: Bus): Bus {
    return {
      ...bus,
      store: async (name) => {
        const store = await bus.store(name);
        if (name !== BUCKETS.instances) return store;
        const held: KvStore = {
          get: async (key) => {
            if (key.startsWith('_shadow.')) await this.pass();
            return store.get(key);
          },
          create: (key, value) => store.create(key, value),
          update: (key, value, revision) => store.update(key, value, revision),
          put: (key, value) => store.put(key, value),
        };
        return held;
      },
    };
  }
}

async function journal(bus: Bus): Promise<JournalRecord[]> {
  const info = await bus.jsm.streams.info(STREAMS.JOURNAL);
  const out: JournalRecord[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(STREAMS.JOURNAL, { seq }).catch(() => null);
    if (m) out.push(...JournalMessage.decode(m.data));
  }
  return out;
}

const CARTS = ['c1', 'c2', 'c3'];

void t.test(
  'a stuck shadow: the live version decides and delivers at once; the shadow catches up in order',
  async (t) => {
    const gate = new Gate();
    const { bus, sink } = await startPipeline(t, {}, {}, (b) => gate.wrap(b));
    t.teardown(() => gate.release());
    await publishJourneys(bus, journey(CART));
    await publishShadowVersion(bus, journey(CART));

    const started = Date.now();
    for (const cart of CARTS) {
      await publishEvent(bus, [
        'track',
        {
          userId: 'u1',
          messageId: `${cart}-checkout`,
          event: 'checkout_started',
          properties: { cart_id: cart },
        },
      ]);
      await publishEvent(bus, [
        'track',
        { userId: 'u1', messageId: `${cart}-order`, event: 'order_completed', properties: { cart_id: cart } },
      ]);
    }
    // The old inline shadow held each input's ack for up to 2 s: the third delivery came 10 s on.
    await sink.waitFor(CARTS.length, 30_000);
    const elapsed = Date.now() - started;
    t.ok(elapsed < 5_000, `the three live deliveries within 5 s of the first event (${elapsed} ms)`);
    t.same(
      sink.requests.map((r) => (r.body as { cart: string }).cart),
      CARTS,
      'in the order of the inputs',
    );
    const live = (await journal(bus)).filter((r) => r.shadow !== true && r.type === 'completed');
    t.same(
      live.map((r) => r.instanceKey),
      CARTS,
      'every live instance completed, journaled',
    );
    t.ok(gate.held > 0, `the shadow is stuck on a read (${gate.held} held)`);
    t.same(
      (await journal(bus)).filter((r) => r.shadow === true),
      [],
      'nothing decided by the shadow yet',
    );

    gate.release();
    await waitUntil(
      async () =>
        (await journal(bus)).filter((r) => r.shadow === true && r.type === 'completed').length === 3,
      30_000,
      'the shadow caught up',
    );
    const shadow = (await journal(bus)).filter(
      (r) => r.shadow === true && (r.type === 'entered' || r.type === 'would_send' || r.type === 'completed'),
    );
    t.same(
      shadow.map((r) => `${r.type} ${r.instanceKey}`),
      CARTS.flatMap((c) => [`entered ${c}`, `would_send ${c}`, `completed ${c}`]),
      "the shadow applied the user's inputs in their order",
    );
    const kv = await bus.kv(BUCKETS.instances);
    for (const cart of CARTS) {
      const e = await kv.get(shadowKvKey('cart', 'u1', cart));
      t.equal(e && instanceCodec.decode(e.value).status, 'completed', `${cart}: shadow instance completed`);
    }
    t.equal(sink.requests.length, CARTS.length, 'the shadow delivered nothing');
    await waitUntil(
      async () => (await bus.jsm.streams.info(STREAMS.SHADOW)).state.messages === 0,
      10_000,
      'SHADOW drained',
    );
  },
);

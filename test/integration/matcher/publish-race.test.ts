// A trigger event that arrives while a journey version is being published — its head already
// seen by the matcher, the version not compiled yet — waits for that version and enters it; it
// is never acked as if no journey existed. The version's read is held back (a gate on the
// journeys bucket) until the event has reached the matcher. A version whose load failed is
// loaded again by the next input rather than missing until the journey's head changes.
import type { KV } from '@nats-io/kv';
import t from 'tap';

import {
  BUCKETS,
  instanceCodec,
  instanceKvKey,
  MatchEventMessage,
  publishJourneyVersion,
  STREAMS,
  type Bus,
} from '../../../libs/bus/index.js';
import { parseJourney, type JourneyDocument } from '../../../libs/journey/index.js';
import { startMatcher } from '../../../services/matcher/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { CART, track, withMatcher } from './helpers.js';

function journey(text: string): JourneyDocument {
  const r = parseJourney(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.journey;
}

/** The bus with reads of one key of the journeys bucket held until `release()` (or failing, the
 * first `failures` times). */
function holdRead(
  bus: Bus,
  heldKey: string,
  failures = 0,
): { bus: Bus; asked: Promise<void>; release(): void } {
  let release!: () => void;
  const open = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const asked = new Promise<void>((r) => (reached = r));
  const gate = (kv: KV): KV =>
    new Proxy(kv, {
      get(target, prop) {
        if (prop === 'get') {
          return async (key: string) => {
            if (key === heldKey) {
              reached();
              if (failures-- > 0) throw new Error('read failed');
              await open;
            }
            return target.get(key);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return {
    bus: {
      ...bus,
      kv: async (name) => (name === BUCKETS.journeys ? gate(await bus.kv(name)) : bus.kv(name)),
    },
    asked,
    release,
  };
}

void t.test('an entry while the new version compiles enters that version', async (t) => {
  const h = await withMatcher(t);
  await publishJourneyVersion(h.bus, journey(CART));
  const held = holdRead(h.bus, 'cart.v2');
  const matcher = await startMatcher({
    config: h.config,
    bus: held.bus,
    logger: silentLogger,
    metrics: h.metrics,
  });
  t.teardown(() => matcher.stop(1_000));
  t.equal(matcher.activeVersion('cart'), 1);

  // Version 2 is published: the matcher sees its head and starts reading it (held back).
  await publishJourneyVersion(h.bus, journey(CART.replace('name: Cart abandonment', 'name: Cart v2')));
  await held.asked;

  // A new user's trigger reaches the matcher before version 2 is compiled.
  const checkout = track('bob', 'checkout_started', { cart_id: 'c-9' });
  const ack = await h.bus.js.publish(
    `match.${h.partition('bob')}.event`,
    MatchEventMessage.encode({ v: 1, kind: 'event', event: checkout }),
    { msgID: checkout.messageId },
  );
  await waitUntil(
    async () => {
      for await (const c of h.bus.jsm.consumers.list(STREAMS.MATCH)) {
        if (c.delivered.stream_seq >= ack.seq) return true;
      }
      return false;
    },
    10_000,
    'the event delivered to the matcher',
  );
  held.release();
  await h.drained();

  const kv = await h.bus.store(BUCKETS.instances);
  const entry = await kv.get(instanceKvKey('cart', 'bob', 'c-9'));
  t.ok(entry, 'the event entered the journey');
  t.equal(entry && instanceCodec.decode(entry.value).version, 2, 'on the version the head names');
  t.equal(matcher.activeVersion('cart'), 2);
});

void t.test('a version whose load failed is loaded again by the next input', async (t) => {
  const h = await withMatcher(t);
  await publishJourneyVersion(h.bus, journey(CART));
  // The first read of version 1 fails (a node lost, say): the matcher starts without it.
  const held = holdRead(h.bus, 'cart.v1', 1);
  held.release();
  const matcher = await startMatcher({
    config: h.config,
    bus: held.bus,
    logger: silentLogger,
    metrics: h.metrics,
  });
  t.teardown(() => matcher.stop(1_000));
  await held.asked;

  await h.sendEvent(track('carol', 'checkout_started', { cart_id: 'c-3' }));
  await h.drained();
  const kv = await h.bus.store(BUCKETS.instances);
  t.ok(await kv.get(instanceKvKey('cart', 'carol', 'c-3')), 'the event entered the journey');
  t.equal(matcher.activeVersion('cart'), 1);
});

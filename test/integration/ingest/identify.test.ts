// identify merges its traits into KV profiles (CAS), Segment's way.
import t from 'tap';

import { BUCKETS, encodeKey } from '../../../libs/bus/index.js';
import { profileCodec } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

void t.test('identify merges traits into the profile and is routed', async (t) => {
  const h = await withIngest(t);
  const profiles = await h.bus.kv(BUCKETS.profiles);
  const read = async () => {
    const e = await profiles.get(encodeKey('u-7'));
    return e && e.operation === 'PUT' ? profileCodec.decode(e.value) : undefined;
  };

  await h.publish('events.identify', { userId: 'u-7', traits: { plan: 'free', email: 'a@example.com' } });
  await waitUntil(() => h.routed.length === 1, 10_000, 'first identify routed');
  t.same(await read(), { v: 1, traits: { plan: 'free', email: 'a@example.com' }, audiences: [] });

  // A second identify: sent traits replace, null is stored, others are kept.
  await h.publish('events.identify', {
    type: 'identify',
    userId: 'u-7',
    traits: { plan: 'pro', company: null },
  });
  await waitUntil(() => h.routed.length === 2, 10_000, 'second identify routed');
  t.same(await read(), {
    v: 1,
    traits: { plan: 'pro', email: 'a@example.com', company: null },
    audiences: [],
  });
  t.equal(h.routed[1]!.event.type, 'identify');
  t.same(h.routed[1]!.event.traits, { plan: 'pro', company: null });

  // A track does not touch the profile.
  await h.publish('events.track', { userId: 'u-7', event: 'Viewed', traits: { plan: 'x' } });
  await waitUntil(() => h.routed.length === 3, 10_000, 'track routed');
  t.equal((await read())!.traits.plan, 'pro');
});

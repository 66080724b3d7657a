// On an R3 cluster a purchase is applied against the instance the checkout committed, even
// when the matcher's connection is to a follower that has not applied that commit yet
// (DESIGN.md §5.8). Read there, the instance would be missing: the purchase would match nothing,
// write nothing and be acked — lost. The follower is made to lag with
// test/helpers/lagging-follower.ts.
import t from 'tap';

import { BUCKETS, instanceCodec, instanceKvKey, publishJourneyVersion } from '../../../libs/bus/index.js';
import { decide, parseJourney, type Input } from '../../../libs/journey/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import {
  applyInput,
  EMPTY_PROFILE,
  JourneyCatalog,
  type ApplyContext,
} from '../../../services/matcher/index.js';
import { silentLogger } from '../../helpers/bus.js';
import { withLaggingFollower } from '../../helpers/lagging-follower.js';
import { CART, track } from './helpers.js';

/** Rounds that must hit a lagging replica (a direct get may be answered by any replica that
 * serves them, so one such round does not always catch the old read path), and at most. */
const LAGGED_ROUNDS = 5;
const MAX_ROUNDS = 40;

void t.test('a purchase read through a lagging follower still finds the checkout', async (t) => {
  const lc = await withLaggingFollower(t, BUCKETS.instances, { CAIRN_PARTITIONS: '2' });
  const parsed = parseJourney(CART);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  await publishJourneyVersion(lc.writer, parsed.journey);
  const catalog = new JourneyCatalog(lc.reader, silentLogger);
  await catalog.start();
  t.teardown(() => catalog.stop());
  const cart = catalog.active('cart')!;
  const ctx: ApplyContext = {
    bus: lc.reader,
    metrics: createMetrics({ defaultMetrics: false }),
    timerBucketMs: 1_000,
    instanceRetentionMs: 7 * 86_400_000,
    instances: await lc.reader.store(BUCKETS.instances),
    userInstances: await lc.reader.store(BUCKETS.userInstances),
    catalog,
  };
  const writer = await lc.writer.store(BUCKETS.instances);

  let lagged = 0;
  let round = 0;
  while (lagged < LAGGED_ROUNDS && round < MAX_ROUNDS) {
    round++;
    const user = `u${round}`;
    const kvKey = instanceKvKey('cart', user, 'c-1');
    const checkout = track(user, 'checkout_started', { cart_id: 'c-1' });
    const entry: Input = { kind: 'event', id: checkout.messageId, event: checkout };
    // The checkout's commit (the instance in its hold), as the matcher makes it.
    const entered = decide(cart, undefined, entry, {
      now: checkout.receivedAt,
      profile: EMPTY_PROFILE,
      user: { activeInstances: 0, eventsLastSecond: 1 },
      acceptsEntries: true,
    }).instance!;
    const purchase = track(user, 'purchase_completed', { cart_id: 'c-1' }, checkout.receivedAt + 100);
    let committed = 0;
    const [applied, followerHad] = await lc.readBehind(
      async () => (committed = await writer.create(kvKey, instanceCodec.encode(entered))),
      // The purchase reads the instance first; then a direct get through the follower.
      () =>
        Promise.all([
          applyInput(
            ctx,
            { journeyId: 'cart', userKey: user, instanceKey: 'c-1', partition: 0 },
            { kind: 'event', id: purchase.messageId, event: purchase },
            { profile: () => Promise.resolve(EMPTY_PROFILE), eventsLastSecond: 1 },
          ),
          lc.followerRevision(kvKey),
        ]),
    );
    t.equal(applied, 'written', `round ${round}: the purchase was applied to the instance`);
    const after = await writer.get(kvKey);
    t.not(after && instanceCodec.decode(after.value).status, 'active', 'the hold ended on the purchase');
    if (followerHad < committed) lagged++;
  }
  t.equal(lagged, LAGGED_ROUNDS, `direct gets lagged behind the checkout in ${lagged} of ${round} rounds`);
});

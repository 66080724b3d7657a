// Defence in depth: an input on a partition its user does not hash to (a forged or misrouted
// match.<p>.event or .timer) is dead-lettered as wrong_partition, never applied.
import t from 'tap';

import {
  decodeDlqRecord,
  MatchEventMessage,
  publishJourneyVersion,
  STREAMS,
} from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { journey } from '../../helpers/pipeline.js';
import { CART, track, withMatcher } from './helpers.js';

void t.test('an event or timer on another partition than its user is refused', async (t) => {
  const h = await withMatcher(t);
  await publishJourneyVersion(h.bus, journey(CART));
  const matcher = await h.start();
  await waitUntil(() => matcher.activeVersion('cart') === 1, 10_000, 'journey loaded');

  const user = 'mallory';
  const other = 1 - h.partition(user);
  const forged = track(user, 'checkout_started', { cart_id: 'c-1' });
  await h.bus.js.publish(
    `match.${other}.event`,
    MatchEventMessage.encode({ v: 1, kind: 'event', event: forged }),
    {
      msgID: forged.messageId,
    },
  );
  await h.sendTimer(
    {
      v: 1,
      kind: 'timer',
      journeyId: 'cart',
      userKey: user,
      instanceKey: 'c-1',
      token: 't-1',
      at: Date.now(),
    },
    other,
  );
  await h.drained();
  await waitUntil(
    async () => (await h.bus.jsm.streams.info(STREAMS.DLQ)).state.messages === 2,
    10_000,
    'both in dlq.matcher',
  );
  for (let seq = 1; seq <= 2; seq++) {
    const rec = decodeDlqRecord((await h.bus.jsm.streams.getMessage(STREAMS.DLQ, { seq }))!.data);
    t.equal(rec.reason, 'wrong_partition');
    t.match(rec.detail, new RegExp(`partition ${h.partition(user)} of 2`));
  }
  t.same(await h.timers(), [], 'no instance started, no timer');
  t.same(await h.journal(), [], 'nothing journaled');

  // The same event on its own partition is applied.
  await h.sendEvent(track(user, 'checkout_started', { cart_id: 'c-2' }));
  await waitUntil(async () => (await h.timers()).length === 1, 10_000, 'entered');
});

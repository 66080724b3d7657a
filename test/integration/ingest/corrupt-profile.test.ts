// A corrupt profile value: the event that reads it goes to dlq.ingest at once as value_invalid,
// naming the key, and other users' events flow.
import t from 'tap';

import { BUCKETS, encodeKey } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

void t.test('a corrupt profile refuses only its own user’s identify', async (t) => {
  const h = await withIngest(t);
  const kv = await h.bus.kv(BUCKETS.profiles);
  await kv.put(encodeKey('u-bad'), new TextEncoder().encode('{"v":1,"traits":"nope"}'));
  await h.publish('events.identify', { userId: 'u-bad', traits: { plan: 'pro' }, messageId: 'bad-1' });
  await h.publish('events.identify', { userId: 'u-good', traits: { plan: 'pro' }, messageId: 'good-1' });
  await waitUntil(() => h.dlq.length === 1 && h.routed.length >= 1, 15_000, 'dlq record and routed event');
  t.equal(h.dlq[0]!.reason, 'value_invalid');
  t.equal(h.dlq[0]!.deliveryCount, 1, 'at once');
  t.match(h.dlq[0]!.detail, new RegExp(`profiles/${encodeKey('u-bad')}: .*traits`));
  t.equal(h.routed[0]!.event.messageId, 'good-1');
});

// A corrupt instance value is dead-lettered at once as value_invalid naming its key (not retried
// up to the delivery budget), and other users' inputs go on.
import t from 'tap';

import {
  BUCKETS,
  decodeDlqRecord,
  instanceKvKey,
  publishJourneyVersion,
  STREAMS,
} from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { journey } from '../../helpers/pipeline.js';
import { CART, track, withMatcher } from './helpers.js';

void t.test('a corrupt instance: its input goes to the dlq naming the key; others go on', async (t) => {
  const h = await withMatcher(t);
  await publishJourneyVersion(h.bus, journey(CART));
  const matcher = await h.start();
  await waitUntil(() => matcher.activeVersion('cart') === 1, 10_000, 'journey loaded');
  const kv = await h.bus.kv(BUCKETS.instances);
  const key = instanceKvKey('cart', 'alice', 'c-1');
  await kv.put(key, new Uint8Array([0xc1, 0xff, 0x00]));

  await h.sendEvent(track('alice', 'checkout_started', { cart_id: 'c-1' }));
  await h.sendEvent(track('bob', 'checkout_started', { cart_id: 'c-2' }));
  await waitUntil(
    async () => (await h.bus.jsm.streams.info(STREAMS.DLQ)).state.messages === 1,
    10_000,
    'dlq',
  );
  const rec = decodeDlqRecord((await h.bus.jsm.streams.getMessage(STREAMS.DLQ, { seq: 1 }))!.data);
  t.equal(rec.reason, 'value_invalid');
  t.equal(rec.deliveryCount, 1, 'at once, not after the delivery budget');
  t.match(rec.detail, new RegExp(`instances/${key.replace(/[.]/g, '\\.')}: `));
  await waitUntil(
    async () => (await h.timers()).some((x) => x.value.userKey === 'bob'),
    10_000,
    "bob's entry",
  );
  t.notOk((await h.timers()).some((x) => x.value.userKey === 'alice'));
});

// One person's events keep their stream order across an alias (DESIGN.md §5.2): ingest serializes
// by the canonical user they are routed by, not by the id they carry.
import t from 'tap';

import { BUCKETS, STREAMS } from '../../../libs/bus/index.js';
import { INGEST_DURABLE } from '../../../services/ingest/index.js';
import { refuseWrites, waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

void t.test("an alias's events are not overtaken by its user's next event", async (t) => {
  const h = await withIngest(t);
  // The alias fails until profiles can be written again (the two tracks only read them).
  const restore = await refuseWrites(h.bus, BUCKETS.profiles);
  await h.publish('events.alias', { type: 'alias', previousId: 'anon-1', userId: 'u-1', messageId: 'alias' });
  await h.publish('events.track', { anonymousId: 'anon-1', event: 'First', messageId: 'first' });
  const { seq } = await h.publish('events.track', { userId: 'u-1', event: 'Second', messageId: 'second' });
  await waitUntil(
    async () =>
      (await h.metrics.runnerMessages.get()).values.some(
        (v) => v.labels['outcome'] === 'error' && v.value >= 1,
      ),
    10_000,
    'the alias fails once',
  );
  await waitUntil(
    async () => {
      const info = await h.bus.jsm.consumers.info(STREAMS.EVENTS, INGEST_DURABLE);
      return info.num_pending === 0 && info.delivered.stream_seq >= seq;
    },
    10_000,
    'every event reaches ingest',
  );
  await restore();

  await waitUntil(() => h.routed.length === 3, 15_000, 'all three routed');
  t.same(
    h.routed.map((r) => [r.event.messageId, r.event.userKey]),
    [
      ['alias', 'u-1'],
      ['first', 'u-1'],
      ['second', 'u-1'],
    ],
    'in stream order, all to the canonical user',
  );
});

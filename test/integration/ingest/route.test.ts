// A valid event lands on its user's partition as a MatchEventMessage, timed by the stream.
import t from 'tap';

import { partitionOf, STREAMS } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

void t.test('a track event is routed to match.<p>.event with the stream receive time', async (t) => {
  const h = await withIngest(t);
  t.ok(h.ingest.isReady());
  const { seq } = await h.publish('events.track', {
    userId: 'user-42',
    event: 'Order Completed',
    messageId: 'm-1',
    properties: { total: 30 },
  });
  await waitUntil(() => h.routed.length === 1, 10_000, 'routed event');
  const r = h.routed[0]!;
  const p = partitionOf('user-42', 4);
  t.equal(r.subject, `match.${p}.event`);
  t.equal(r.msgId, 'm-1', 'Nats-Msg-Id is the messageId');
  t.equal(r.event.type, 'track');
  t.equal(r.event.name, 'Order Completed');
  t.equal(r.event.userKey, 'user-42');
  t.same(r.event.properties, { total: 30 });
  const stored = await h.bus.jsm.streams.getMessage(STREAMS.EVENTS, { seq });
  t.equal(r.event.receivedAt, Date.parse(stored!.timestamp), 'receivedAt is the stream time');
  const ingested = await h.metrics.eventsIngested.get();
  t.same(
    ingested.values.map((v) => [v.labels.type, v.value]),
    [['track', 1]],
  );
});

void t.test('the subject gives the type; a missing messageId becomes evt-<seq>', async (t) => {
  const h = await withIngest(t);
  const { seq } = await h.publish('events.page', { anonymousId: 'anon-1', name: 'Home' });
  await waitUntil(() => h.routed.length === 1, 10_000, 'routed event');
  const r = h.routed[0]!;
  t.equal(r.event.type, 'page');
  t.equal(r.event.userKey, 'anon-1');
  t.equal(r.event.messageId, `evt-${seq}`);
  t.equal(r.msgId, `evt-${seq}`);
  t.equal(r.subject, `match.${partitionOf('anon-1', 4)}.event`);
});

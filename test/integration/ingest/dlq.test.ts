// Bad input goes to dlq.ingest with its reason and never stops the pipeline (DESIGN.md §5.6).
import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

void t.test('malformed and oversized events go to the DLQ; a valid one after them flows', async (t) => {
  const h = await withIngest(t);
  await h.publish('events.track', new TextEncoder().encode('{"userId": "u-1", "event": '));
  await h.publish('events.track', {
    userId: 'u-1',
    event: 'Huge',
    properties: { blob: 'x'.repeat(33 * 1024) },
  });
  await h.publish('events.track', { event: 'Nobody' });
  await h.publish('events.identify', { type: 'track', userId: 'u-1', event: 'Mixed' });
  await h.publish('events.track', { userId: 'u-1', event: 'Fine', messageId: 'ok-1' });

  await waitUntil(() => h.dlq.length === 4 && h.routed.length === 1, 15_000, 'dlq records and routed event');
  const byReason = new Map(h.dlq.map((r) => [r.reason, r]));
  const notJson = byReason.get('CAIRN_E_EVENT_NOT_JSON');
  t.ok(notJson, 'malformed JSON refused');
  t.match(notJson?.detail, /invalid JSON at line 1/);
  t.equal(notJson?.stage, 'ingest');
  t.equal(notJson?.subject, 'events.track');
  t.equal(Buffer.from(notJson!.payload, 'base64').toString(), '{"userId": "u-1", "event": ');
  t.match(byReason.get('CAIRN_E_EVENT_TOO_LARGE')?.detail, /limit is 32768 bytes/);
  t.ok(byReason.get('CAIRN_E_EVENT_NO_IDENTITY'), 'no identity refused');
  t.match(byReason.get('CAIRN_E_EVENT_TYPE_MISMATCH')?.detail, /events\.identify/);

  t.equal(h.routed[0]!.event.messageId, 'ok-1', 'the valid event still flows');
  const dlq = await h.metrics.dlq.get();
  t.equal(
    dlq.values.reduce((n, v) => n + v.value, 0),
    4,
  );
});

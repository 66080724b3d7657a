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

void t.test(
  'an event near the server max payload reaches the DLQ at once, its record cut to fit',
  async (t) => {
    const h = await withIngest(t);
    const body = { userId: 'u-big', event: 'Huge', properties: { blob: 'x'.repeat(1_000_000) } };
    const size = new TextEncoder().encode(JSON.stringify(body)).byteLength;
    t.ok(size > (h.bus.nc.info?.max_payload ?? 0) * 0.9, `the event is ${size} bytes, near the max payload`);
    const { seq } = await h.publish('events.track', body);
    await h.publish('events.track', { userId: 'u-2', event: 'Fine', messageId: 'after-big' });

    await waitUntil(() => h.dlq.length === 1 && h.routed.length === 1, 15_000, 'dlq record and routed event');
    const record = h.dlq[0]!;
    t.equal(record.reason, 'CAIRN_E_EVENT_TOO_LARGE');
    t.equal(record.deliveryCount, 1, 'refused on its first delivery');
    t.equal(record.stream, 'EVENTS');
    t.equal(record.seq, seq, 'the record names the original message');
    t.equal(record.truncated, true);
    t.equal(record.payloadBytes, size);
    const kept = Buffer.from(record.payload, 'base64');
    t.ok(
      kept.byteLength > 0 && kept.byteLength < size,
      `a prefix of the payload is kept (${kept.byteLength} bytes)`,
    );
    t.equal(kept.toString(), JSON.stringify(body).slice(0, kept.byteLength));
    await waitUntil(
      async () => (await h.bus.jsm.consumers.info('EVENTS', 'ingest')).num_ack_pending === 0,
      10_000,
      'nothing pending on the ingest consumer',
    );
  },
);

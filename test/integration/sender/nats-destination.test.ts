// The sender delivering to nats destinations (a subject in a stream, and a plain subject), and
// a job whose destination does not exist.
import { RetentionPolicy } from '@nats-io/jetstream';
import t from 'tap';

import { BUCKETS, putDestination } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { counterValue, histogramCount, job, withSender } from './helpers.js';

void t.test('nats destinations', async (t) => {
  const h = await withSender(t, { unknownDestinationRetryMs: 50 });
  const sent = await h.bus.kv(BUCKETS.sent);

  await t.test('core subject receives the JSON payload', async (t) => {
    await putDestination(h.bus, { v: 1, id: 'bus-plain', type: 'nats', subject: 'crm.plain' });
    const received: { data: unknown; msgId: string | undefined }[] = [];
    const sub = h.bus.nc.subscribe('crm.plain', {
      callback: (_err, m) => {
        received.push({ data: m.json(), msgId: m.headers?.get('Nats-Msg-Id') });
      },
    });
    t.teardown(() => sub.unsubscribe());
    await h.bus.nc.flush();
    const j = job({ destination: 'bus-plain' });
    await h.publishJob(j);
    await waitUntil(() => received.length === 1, 10_000, 'core message');
    t.same(received[0]!.data, j.payload);
    t.equal(received[0]!.msgId, j.deliveryId);
    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 5_000, 'sent record');
    t.ok(
      (await histogramCount(h.metrics, 'cairn_delivery_latency_seconds', { destination: 'bus-plain' })) >= 1,
      'latency observed',
    );
  });

  await t.test('subject in a stream: JetStream publish, deduplicated by delivery id', async (t) => {
    await h.bus.jsm.streams.add({ name: 'CRM', subjects: ['crm.js.>'], retention: RetentionPolicy.Limits });
    await putDestination(h.bus, { v: 1, id: 'bus-js', type: 'nats', subject: 'crm.js.orders' });
    const j = job({ destination: 'bus-js' });
    await h.publishJob(j);
    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 10_000, 'sent record');
    const info = await h.bus.jsm.streams.info('CRM');
    t.equal(info.state.messages, 1);
    const m = await h.bus.jsm.streams.getMessage('CRM', { seq: info.state.last_seq });
    t.same(m!.json(), j.payload);
    t.equal(m!.header.get('Nats-Msg-Id'), j.deliveryId);
  });

  await t.test('unknown destination: retried, then dlq unknown_destination', async (t) => {
    const j = job({ destination: 'nowhere' });
    await h.publishJob(j);
    await waitUntil(
      async () => (await h.dlq()).some((r) => r.reason === 'unknown_destination'),
      10_000,
      'dlq record',
    );
    const rec = (await h.dlq()).find((r) => r.reason === 'unknown_destination')!;
    t.equal(rec.deliveryCount, 5, 'after the delivery budget (CAIRN_MAX_DELIVER=5)');
    t.equal(await counterValue(h.metrics, 'cairn_deliveries_total', { outcome: 'unknown_destination' }), 1);
  });

  await t.test('a destination created while its job waits is used', async (t) => {
    const j = job({ destination: 'late' });
    await h.publishJob(j);
    await waitUntil(
      async () => (await h.bus.jsm.consumers.info('DELIVER', 'sender-p0')).num_redelivered >= 1,
      10_000,
      'job retried',
    );
    await putDestination(h.bus, { v: 1, id: 'late', type: 'nats', subject: 'crm.late' });
    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 10_000, 'delivered');
    t.pass();
  });
});

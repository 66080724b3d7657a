// The sender against a real local HTTP server: signing, retries, terminal statuses, the
// idempotency record and the latency histogram.
import { createHmac } from 'node:crypto';

import t from 'tap';

import { BUCKETS, putDestination } from '../../../libs/bus/index.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { waitUntil } from '../../helpers/bus.js';
import { counterValue, histogramCount, job, withSender } from './helpers.js';

const SECRET_BYTES = Buffer.from('a test secret of 24 bytes');
const SECRET = `whsec_${SECRET_BYTES.toString('base64')}`;

void t.test('webhook deliveries', async (t) => {
  const h = await withSender(t);
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  await putDestination(h.bus, {
    v: 1,
    id: 'crm',
    type: 'webhook',
    url: `${sink.url}/hook`,
    secret: SECRET,
    headers: { 'x-team': 'growth' },
  });
  const sent = await h.bus.kv(BUCKETS.sent);

  await t.test('signed JSON payload, sent record, latency observed', async (t) => {
    const j = job();
    const before = sink.requests.length;
    await h.publishJob(j);
    const [req] = (await sink.waitFor(before + 1)).slice(before);
    t.equal(req!.method, 'POST');
    t.equal(req!.path, '/hook');
    t.same(req!.body, j.payload);
    t.equal(req!.headers['content-type'], 'application/json');
    t.equal(req!.headers['user-agent'], 'cairn');
    t.equal(req!.headers['x-team'], 'growth');
    t.equal(req!.headers['idempotency-key'], j.deliveryId);
    t.equal(req!.headers['webhook-id'], j.deliveryId);
    const ts = String(req!.headers['webhook-timestamp']);
    t.ok(Math.abs(Number(ts) - Date.now() / 1_000) < 30, 'timestamp is unix seconds, now');
    const expected = createHmac('sha256', SECRET_BYTES)
      .update(`${j.deliveryId}.${ts}.${req!.text}`)
      .digest('base64');
    t.equal(req!.headers['webhook-signature'], `v1,${expected}`);

    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 5_000, 'sent record');
    const rec = (await sent.get(j.deliveryId))!.json<{ v: number; at: number; status: number }>();
    t.equal(rec.v, 1);
    t.equal(rec.status, 200);
    await waitUntil(
      async () =>
        (await histogramCount(h.metrics, 'cairn_delivery_latency_seconds', {
          journey: 'welcome',
          destination: 'crm',
        })) >= 1,
      5_000,
      'latency observation',
    );
    const m = await h.metrics.registry.getSingleMetric('cairn_delivery_latency_seconds')!.get();
    const sum = m.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'));
    t.ok(sum && sum.value >= 1.4, `latency counts from eventReceivedAt (${sum?.value})`);
    const e = await h.metrics.registry.getSingleMetric('cairn_delivery_event_latency_seconds')!.get();
    const eSum = e.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'));
    t.ok(eSum && eSum.value >= 1.9, `and from the event timestamp (${eSum?.value})`);
    const bucket = e.values.find((v) => v.labels['le'] === 300 && v.labels['destination'] === 'crm');
    t.equal(bucket?.value, 1, 'with a 300 s bucket, labelled by journey and destination');
  });

  await t.test('500 then 200: retried, delivered once', async (t) => {
    const j = job();
    let calls = 0;
    sink.respond((req) => {
      if (req.headers['webhook-id'] !== j.deliveryId) return 200;
      calls++;
      return calls === 1 ? 500 : 200;
    });
    await h.publishJob(j);
    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 10_000, 'delivered after retry');
    t.equal(calls, 2);
    const ok = sink.requests.filter((r) => r.headers['webhook-id'] === j.deliveryId);
    t.equal(ok.length, 2, 'one failed attempt, one success');
    t.equal(await counterValue(h.metrics, 'cairn_deliveries_total', { outcome: 'retry' }), 1);
    sink.respond(() => 200);
  });

  await t.test('429 with Retry-After is honoured', async (t) => {
    const j = job();
    const at: number[] = [];
    sink.respond((req) => {
      if (req.headers['webhook-id'] !== j.deliveryId) return 200;
      at.push(Date.now());
      return at.length === 1 ? { status: 429, headers: { 'retry-after': '1' } } : 200;
    });
    await h.publishJob(j);
    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 10_000, 'delivered after 429');
    t.equal(at.length, 2);
    t.ok(at[1]! - at[0]! >= 900, `waited for Retry-After (${at[1]! - at[0]!} ms)`);
    sink.respond(() => 200);
  });

  await t.test('400 goes to dlq.deliver with reason http_400', async (t) => {
    const j = job();
    sink.respond((req) => (req.headers['webhook-id'] === j.deliveryId ? 400 : 200));
    await h.publishJob(j);
    await waitUntil(async () => (await h.dlq()).some((r) => r.reason === 'http_400'), 10_000, 'dlq record');
    const rec = (await h.dlq()).find((r) => r.reason === 'http_400')!;
    t.equal(rec.stage, 'sender');
    t.equal(rec.subject, 'deliver.0');
    t.equal(sink.requests.filter((r) => r.headers['webhook-id'] === j.deliveryId).length, 1, 'not retried');
    t.equal(await sent.get(j.deliveryId), null, 'no sent record');
    sink.respond(() => 200);
  });

  await t.test('the same job twice (different msg ids) is delivered once', async (t) => {
    const j = job();
    await h.publishJob(j, `${j.deliveryId}-a`);
    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 10_000, 'first delivery');
    await h.publishJob(j, `${j.deliveryId}-b`);
    await waitUntil(
      async () => (await counterValue(h.metrics, 'cairn_deliveries_total', { outcome: 'duplicate' })) >= 1,
      10_000,
      'duplicate acked',
    );
    t.equal(sink.requests.filter((r) => r.headers['webhook-id'] === j.deliveryId).length, 1);
  });

  await t.test('undecodable job -> bad_message', async (t) => {
    await h.bus.js.publish('deliver.0', new TextEncoder().encode('not msgpack {'));
    await waitUntil(async () => (await h.dlq()).some((r) => r.reason === 'bad_message'), 10_000, 'dlq');
    t.pass();
  });
});

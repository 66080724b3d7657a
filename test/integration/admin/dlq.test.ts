// Dead letters, destinations and health over the admin API, with a running sender and a real
// local HTTP sink: a delivery that exhausted its budget is listed with its attempts, retried
// once the sink recovers and delivered; another is dropped. Destinations show masked secrets;
// a test send reaches the sink.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call -- the JSON answers are checked field by field */
import t from 'tap';

import {
  BUCKETS,
  DeliverJobMessage,
  publishWithId,
  putDestination,
  subjects,
} from '../../../libs/bus/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { startSender } from '../../../services/sender/index.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { job, userOn } from '../sender/helpers.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from './helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

void t.test('DLQ list, show, retry (delivered to the sink) and drop; destinations; health', async (t) => {
  const tb = await withBus(t, { ...TOKENS_ENV, CAIRN_PARTITIONS: '2', CAIRN_EGRESS_ALLOW_LOOPBACK: 'true' });
  const sender = await startSender({
    config: tb.config,
    bus: tb.bus,
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  t.teardown(() => sender.stop(1_000));
  let down = true;
  const sink = await startHttpSink((req) => (req.path === '/bad' ? 400 : down ? 503 : 200));
  t.teardown(() => sink.close());
  await putDestination(tb.bus, {
    v: 1,
    id: 'crm',
    type: 'webhook',
    url: sink.url,
    retryBudgetMs: 1_500,
    secret: SECRET,
    headers: { 'x-api-key': 'top-secret-key' },
  });
  await putDestination(tb.bus, {
    v: 1,
    id: 'bad',
    type: 'webhook',
    url: `${sink.url.replace('http://', 'http://user:pa55word@')}/bad`,
  });
  const client = await withAdmin(t, tb.bus, tb.config);

  // Destinations, secrets masked.
  let r = await client.call('GET', '/api/v1/destinations', { token: READ_TOKEN });
  t.equal(r.status, 200);
  t.same(
    r.body.destinations.map((d: { id: string }) => d.id),
    ['bad', 'crm'],
  );
  const text = JSON.stringify(r.body);
  t.notMatch(text, /MfKQ9r8GKYqrTwjUPD8ILPZIo2La|top-secret-key|pa55word/, 'no secret in the list');
  r = await client.call('GET', '/api/v1/destinations/crm', { token: READ_TOKEN });
  t.match(r.body, { id: 'crm', type: 'webhook', secret: 'whsec_****LaSw', headers: { 'x-api-key': '****' } });
  r = await client.call('GET', '/api/v1/destinations/bad', { token: READ_TOKEN });
  t.match(r.body.url, /^http:\/\/user:\*{4}@127\.0\.0\.1:\d+\/bad$/);
  r = await client.call('GET', '/api/v1/destinations/nope', { token: READ_TOKEN });
  t.equal(r.status, 404);
  t.equal(r.body.error.code, 'CAIRN_E_DESTINATION_NOT_FOUND');

  // A test send reaches the sink, signed; the failing one says what the sender would do.
  down = false;
  r = await client.call('POST', '/api/v1/destinations/crm/test');
  t.equal(r.status, 200);
  t.match(r.body, { ok: true, type: 'webhook', status: 200, signed: true, deliveryId: /^test-/ });
  const tested = await sink.waitFor((reqs) =>
    reqs.some((q) => q.headers['idempotency-key'] === r.body.deliveryId),
  );
  t.ok(tested.find((q) => q.headers['idempotency-key'] === r.body.deliveryId)?.headers['webhook-signature']);
  r = await client.call('POST', '/api/v1/destinations/bad/test');
  t.match(r.body, { ok: false, status: 400, verdict: 'would go to the DLQ' });
  r = await client.call('POST', '/api/v1/destinations/crm/test', { token: READ_TOKEN });
  t.equal(r.status, 403, 'a test send is a write');
  down = true;

  r = await client.call('GET', '/api/v1/dlq', { token: READ_TOKEN });
  t.same(r.body, { records: [] });

  const failed = job({ destination: 'crm', userKey: userOn(1) });
  const refused = job({
    destination: 'bad',
    userKey: userOn(1, 2, 'other'),
    stepKey: { journeyId: 'other', version: 3, stepId: 's' },
  });
  for (const j of [failed, refused]) {
    await publishWithId(tb.bus.js, subjects.deliver(1), DeliverJobMessage.encode(j), j.deliveryId);
  }
  await waitUntil(
    async () => (await client.call('GET', '/api/v1/dlq', { token: READ_TOKEN })).body.records.length === 2,
    20_000,
    'two dead letters',
  );
  r = await client.call('GET', '/api/v1/dlq', { token: READ_TOKEN });
  const failedRow = r.body.records.find((x: { deliveryId: string }) => x.deliveryId === failed.deliveryId);
  const refusedRow = r.body.records.find((x: { deliveryId: string }) => x.deliveryId === refused.deliveryId);
  t.match(failedRow, {
    dlqSubject: 'dlq.deliver',
    stage: 'sender',
    reason: 'retry_budget_exhausted',
    destination: 'crm',
    journeyId: 'welcome',
    subject: 'deliver.1',
  });
  t.ok(failedRow.attempts >= 2, `${failedRow.attempts} attempts`);
  t.match(refusedRow, {
    reason: 'http_400',
    destination: 'bad',
    journeyId: 'other',
    version: 3,
    attempts: 1,
  });

  // Filters.
  r = await client.call('GET', '/api/v1/dlq?destination=bad', { token: READ_TOKEN });
  t.same(
    r.body.records.map((x: { seq: number }) => x.seq),
    [refusedRow.seq],
  );
  r = await client.call('GET', '/api/v1/dlq?journey=welcome&stage=deliver', { token: READ_TOKEN });
  t.same(
    r.body.records.map((x: { seq: number }) => x.seq),
    [failedRow.seq],
  );
  r = await client.call('GET', '/api/v1/dlq?stage=ingest', { token: READ_TOKEN });
  t.same(r.body.records, []);
  r = await client.call('GET', '/api/v1/dlq?stage=nowhere', { token: READ_TOKEN });
  t.equal(r.status, 400);
  r = await client.call('GET', '/api/v1/dlq?limit=0', { token: READ_TOKEN });
  t.equal(r.status, 400);

  // One record, with its attempt history and job.
  r = await client.call('GET', `/api/v1/dlq/${failedRow.seq}`, { token: READ_TOKEN });
  t.equal(r.status, 200);
  t.ok(r.body.attempts.length >= 2);
  t.ok(
    r.body.attempts.every(
      (a: { status: number; outcome: string }) => a.status === 503 && a.outcome === 'retry',
    ),
  );
  t.equal(r.body.job.deliveryId, failed.deliveryId);
  t.same(r.body.job.payload, failed.payload);
  t.equal(r.body.payload, undefined, 'the job, not its base64');
  const attemptsBefore = r.body.attempts.length as number;

  // Health: the sender's consumers, the DLQ depth.
  r = await client.call('GET', '/api/v1/health', { token: READ_TOKEN });
  t.equal(r.status, 200);
  const senders = r.body.stages.filter((s: { stage: string }) => s.stage === 'sender');
  t.same(
    senders.map((s: { consumer: string }) => s.consumer),
    ['sender-p0', 'sender-p1'],
  );
  t.ok(senders.every((s: { pending: number; ackPending: number }) => s.pending === 0 && s.ackPending === 0));
  t.equal(r.body.dlq.deliver, 2);
  t.equal(r.body.dlq.shadow, 0, 'every DLQ subject is listed');
  t.equal(r.body.watermarkAgeSeconds, null, 'no ingest ran');
  t.equal(r.body.nats.connected, true);

  // Retry once the sink recovers: delivered, gone from the DLQ.
  down = false;
  r = await client.call('POST', `/api/v1/dlq/${failedRow.seq}/retry`, { token: READ_TOKEN });
  t.equal(r.status, 403);
  r = await client.call('POST', `/api/v1/dlq/${failedRow.seq}/retry`);
  t.equal(r.status, 200);
  t.same(r.body, { retried: true, seq: failedRow.seq, subject: 'deliver.1' });
  const sent = await tb.bus.kv(BUCKETS.sent);
  await waitUntil(async () => (await sent.get(failed.deliveryId)) !== null, 15_000, 're-driven delivery');
  const tries = sink.requests.filter((q) => q.headers['idempotency-key'] === failed.deliveryId);
  t.equal(tries.length, attemptsBefore + 1, 'one more attempt after the retry');

  r = await client.call('DELETE', `/api/v1/dlq/${refusedRow.seq}`);
  t.same(r.body, { dropped: true, seq: refusedRow.seq });
  r = await client.call('GET', '/api/v1/dlq', { token: READ_TOKEN });
  t.same(r.body.records, [], 'both gone');
  r = await client.call('GET', `/api/v1/dlq/${refusedRow.seq}`, { token: READ_TOKEN });
  t.equal(r.status, 404);
  t.equal(r.body.error.code, 'CAIRN_E_DLQ_NOT_FOUND');
  r = await client.call('DELETE', `/api/v1/dlq/${refusedRow.seq}`);
  t.equal(r.status, 404);
  r = await client.call('POST', '/api/v1/dlq/x/retry');
  t.equal(r.status, 400);
});

// `cairn dlq list|show|retry|drop` against a real nats-server and a running sender: a delivery
// that exhausts its retry budget is listed with its attempts, re-driven once the destination
// recovers, and delivered; another is dropped.
import t from 'tap';

import {
  BUCKETS,
  DeliverJobMessage,
  publishWithId,
  putDestination,
  subjects,
} from '../../../libs/bus/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { runCli } from '../../../services/cli/cli.js';
import { startSender } from '../../../services/sender/index.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { job, userOn } from '../sender/helpers.js';
import { captureIo } from './helpers.js';

void t.test('list, show, retry and drop dead letters', async (t) => {
  const tb = await withBus(t, { CAIRN_PARTITIONS: '2', CAIRN_EGRESS_ALLOW_LOOPBACK: 'true' });
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
  await putDestination(tb.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url, retryBudgetMs: 1_500 });
  await putDestination(tb.bus, { v: 1, id: 'bad', type: 'webhook', url: `${sink.url}/bad` });
  const env = { NATS_URL: tb.server.url };
  const run = async (...args: string[]) => {
    const io = captureIo(env);
    const code = await runCli(['dlq', ...args], io);
    return { code, io };
  };

  let r = await run('list');
  t.same(r.io.stdout, ['no dead letters']);

  const failed = job({ destination: 'crm', userKey: userOn(1) });
  const refused = job({ destination: 'bad', userKey: userOn(1, 2, 'other') });
  for (const j of [failed, refused]) {
    await publishWithId(tb.bus.js, subjects.deliver(1), DeliverJobMessage.encode(j), j.deliveryId);
  }
  await waitUntil(async () => (await run('list')).io.stdout.length === 2, 20_000, 'two dead letters');

  r = await run('list');
  t.equal(r.code, 0);
  const failedLine = r.io.stdout.find((l) => l.includes(failed.deliveryId))!;
  const refusedLine = r.io.stdout.find((l) => l.includes(refused.deliveryId))!;
  t.match(failedLine, /^\d+  \S+  dlq\.deliver  retry_budget_exhausted  crm  delivery=\S+  attempts=\d+$/);
  t.match(refusedLine, /dlq\.deliver  http_400  bad  delivery=\S+  attempts=1$/);
  const failedSeq = failedLine.split(' ')[0]!;
  const refusedSeq = refusedLine.split(' ')[0]!;

  r = await run('show', failedSeq, '--json');
  t.equal(r.code, 0);
  const shown = JSON.parse(r.io.stdout.join('\n')) as {
    reason: string;
    subject: string;
    attempts: Array<{ n: number; status: number; outcome: string }>;
    job: { deliveryId: string; attempts: unknown[]; payload: unknown };
  };
  t.equal(shown.reason, 'retry_budget_exhausted');
  t.equal(shown.subject, 'deliver.1', 'where it failed');
  t.ok(shown.attempts.length >= 2, `${shown.attempts.length} attempts in the history`);
  t.ok(shown.attempts.every((a) => a.status === 503 && a.outcome === 'retry'));
  t.equal(shown.job.deliveryId, failed.deliveryId);
  t.same(shown.job.payload, failed.payload);
  const attemptsBefore = shown.attempts.length;

  r = await run('show', failedSeq);
  t.match(r.io.stdout.join('\n'), /reason: retry_budget_exhausted/, 'YAML by default');

  // The destination recovers: re-drive.
  down = false;
  r = await run('retry', failedSeq);
  t.same(r.io.stdout, [`re-driven ${failedSeq} -> deliver.1`]);
  const sent = await tb.bus.kv(BUCKETS.sent);
  await waitUntil(async () => (await sent.get(failed.deliveryId)) !== null, 10_000, 're-driven delivery');
  const tries = sink.requests.filter(
    (q) =>
      q.headers['webhook-id'] === failed.deliveryId || q.headers['idempotency-key'] === failed.deliveryId,
  );
  t.equal(tries.length, attemptsBefore + 1, 'one more attempt after the re-drive');

  r = await run('drop', refusedSeq);
  t.same(r.io.stdout, [`dropped ${refusedSeq}`]);
  r = await run('list');
  t.same(r.io.stdout, ['no dead letters'], 'both gone from the DLQ');

  r = await run('show', refusedSeq);
  t.equal(r.code, 1);
  t.match(r.io.stderr[0], /no DLQ record/);
  r = await run('retry', 'x');
  t.equal(r.code, 1);
});

void t.test('retry refuses a record whose payload was cut to fit', async (t) => {
  const tb = await withBus(t);
  const record = {
    v: 1,
    stage: 'ingest',
    stream: 'EVENTS',
    subject: 'events.track',
    seq: 7,
    reason: 'CAIRN_E_EVENT_TOO_LARGE',
    deliveryCount: 1,
    payload: Buffer.from('{"userId":"u-1","prop').toString('base64'),
    headers: {},
    at: new Date().toISOString(),
    truncated: true,
    payloadBytes: 1_000_000,
  };
  const ack = await tb.bus.js.publish('dlq.ingest', new TextEncoder().encode(JSON.stringify(record)));
  const io = captureIo({ NATS_URL: tb.server.url });
  const code = await runCli(['dlq', 'retry', String(ack.seq)], io);
  t.equal(code, 1);
  t.match(io.stderr.join('\n'), /holds only part of its message \(1000000 bytes/);
  t.match(io.stderr.join('\n'), /message 7 of stream EVENTS/);
  t.equal((await tb.bus.jsm.streams.info('EVENTS')).state.messages, 0, 'nothing re-driven');
  t.equal((await tb.bus.jsm.streams.info('DLQ')).state.messages, 1, 'the record is kept');
});

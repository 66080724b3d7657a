// The order guarantee of sends to one destination for one user (docs/destinations.md): jobs are
// attempted in the order deliver.<p> holds them and a deferral without an attempt keeps that
// order (the job waits by a nak, and the user's later jobs for the destination wait behind it);
// a failed attempt re-publishes the job behind them, so a later job may be delivered first.
import t from 'tap';

import { putDestination } from '../../../libs/bus/index.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { job, withSender } from './helpers.js';

const keys = (requests: Array<{ headers: Record<string, unknown> }>): unknown[] =>
  requests.map((r) => r.headers['idempotency-key']);

void t.test('deferred without an attempt: the order is kept', async (t) => {
  const h = await withSender(t);
  const sink = await startHttpSink(() => 200);
  t.teardown(() => sink.close());
  // One request a second: the second and third jobs wait for their turn.
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url, rateLimit: 1 });
  const jobs = [job({ userKey: 'ann' }), job({ userKey: 'ann' }), job({ userKey: 'ann' })];
  for (const j of jobs) await h.publishJob(j);
  await sink.waitFor(3, 15_000);
  t.same(
    keys(sink.requests),
    jobs.map((j) => j.deliveryId),
  );
});

void t.test("a retry can be overtaken by the user's later job to the destination", async (t) => {
  const h = await withSender(t, { clock: { now: () => Date.now(), random: () => 0 } });
  // The first attempt (the first job's) fails with a 503; everything after succeeds.
  const sink = await startHttpSink((_req, i) => (i === 0 ? 503 : 200));
  t.teardown(() => sink.close());
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url });
  const first = job({ userKey: 'bob' });
  const second = job({ userKey: 'bob' });
  await h.publishJob(first);
  await h.publishJob(second);
  await sink.waitFor(3, 15_000);
  t.same(
    keys(sink.requests),
    [first.deliveryId, second.deliveryId, first.deliveryId],
    'the second job is delivered before the retry of the first',
  );
});

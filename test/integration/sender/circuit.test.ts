// The circuit breaker against a real failing server: it opens on the failure rate, holds every
// attempt for the cooldown, lets one probe through, re-opens when the probe fails, and closes
// when a probe succeeds; no job is lost on the way.
import t from 'tap';

import { BUCKETS, putDestination } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { counterValue, job, withSender } from './helpers.js';

void t.test('opens on failures, probes after the cooldown, closes on success', async (t) => {
  const h = await withSender(t);
  // Requests 0-3 fail (the circuit opens), request 4 is the first probe and fails too (it
  // re-opens), request 5 is the second probe and succeeds (it closes).
  const sink = await startHttpSink((_req, i) => (i < 5 ? 500 : 200));
  t.teardown(() => sink.close());
  await putDestination(h.bus, {
    v: 1,
    id: 'flaky',
    type: 'webhook',
    url: sink.url,
    concurrency: 1,
    circuit: { failureRate: 0.5, minRequests: 4, cooldownMs: 1_000 },
  });
  const jobs = Array.from({ length: 8 }, () => job({ destination: 'flaky' }));
  for (const j of jobs) await h.publishJob(j);

  const sent = await h.bus.kv(BUCKETS.sent);
  await waitUntil(
    async () => (await Promise.all(jobs.map((j) => sent.get(j.deliveryId)))).every((e) => e !== null),
    60_000,
    'every job delivered',
  );
  const at = sink.requests.map((r) => r.at);
  t.ok(at[4]! - at[3]! >= 950, `opened: the first probe waited the cooldown (${at[4]! - at[3]!} ms)`);
  t.ok(at[5]! - at[4]! >= 950, `a failed probe re-opens it (${at[5]! - at[4]!} ms)`);
  t.ok(
    (await counterValue(h.metrics, 'cairn_delivery_deferrals_total', {
      destination: 'flaky',
      reason: 'circuit_open',
    })) >= 1,
    'jobs were parked while open',
  );
  t.equal(
    await counterValue(h.metrics, 'cairn_destination_circuit_open', { destination: 'flaky' }),
    0,
    'closed',
  );
  const ids = sink.requests.filter((r) => r.headers['webhook-id'] === undefined).length;
  t.equal(ids, sink.requests.length, 'unsigned destination');
  const okIds = new Set(sink.requests.slice(5).map((r) => String(r.headers['idempotency-key'])));
  t.equal(okIds.size, sink.requests.length - 5, 'no delivery id was accepted twice');
  t.equal((await h.deliveryDlq()).length, 0, 'nothing dead-lettered');
});

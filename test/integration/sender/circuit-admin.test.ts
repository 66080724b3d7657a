// The circuit as the admin API shows it: a real sender's breaker, opened by real failing
// deliveries to a local HTTP server, is written to KV `cairn_state` and read by the admin routes
// (`open`, then `closed` once the server recovers); a stopped sender's entries go away, and an
// entry its writer no longer rewrites fades.
import t from 'tap';

import { BUCKETS, circuitKey, encodeCircuitReport, putDestination } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from '../admin/helpers.js';
import { job, withSender } from './helpers.js';

void t.test('the admin API reports the sender circuit: closed, open, closed again', async (t) => {
  const h = await withSender(t, { circuitReportMs: 1_000 }, TOKENS_ENV);
  const client = await withAdmin(t, h.bus, h.config);
  let failing = true;
  const sink = await startHttpSink(() => (failing ? 503 : 200));
  t.teardown(() => sink.close());
  await putDestination(h.bus, {
    v: 1,
    id: 'flaky',
    type: 'webhook',
    url: sink.url,
    concurrency: 1,
    circuit: { failureRate: 0.5, minRequests: 4, cooldownMs: 2_000 },
  });
  const circuitOf = async (): Promise<string> => {
    const res = await client.call('GET', '/api/v1/destinations/flaky', { token: READ_TOKEN });
    t.equal(res.status, 200);
    return (res.body as { circuit: string }).circuit;
  };
  const seen = new Set<string>();
  const waitFor = (want: string, what: string): Promise<void> =>
    waitUntil(
      async () => {
        const c = await circuitOf();
        seen.add(c);
        return c === want;
      },
      30_000,
      what,
    );

  await waitFor('closed', 'closed while the sender runs and nothing failed');

  const jobs = Array.from({ length: 6 }, () => job({ destination: 'flaky' }));
  for (const j of jobs) await h.publishJob(j);
  await waitFor('open', 'open after the failing deliveries');
  t.ok(sink.requests.length >= 4, `opened after ${sink.requests.length} failed requests`);
  const list = await client.call('GET', '/api/v1/destinations', { token: READ_TOKEN });
  t.equal(list.status, 200);
  const shown = (list.body as { destinations: Array<{ id: string; circuit: string }> }).destinations.find(
    (d) => d.id === 'flaky',
  );
  t.ok(shown && ['open', 'half_open'].includes(shown.circuit), `the list shows it too (${shown?.circuit})`);

  failing = false;
  // A fresh job is the probe once the cooldown is over (the failed ones wait out their backoff,
  // up to seconds per attempt on a loaded host).
  const probe = job({ destination: 'flaky' });
  await h.publishJob(probe);
  jobs.push(probe);
  await waitFor('closed', 'closed again once a probe succeeds');
  const sent = await h.bus.kv(BUCKETS.sent);
  await waitUntil(
    async () => (await Promise.all(jobs.map((j) => sent.get(j.deliveryId)))).every((e) => e !== null),
    60_000,
    'every job delivered',
  );
  t.same([...seen].sort(), ['closed', 'open'].concat(seen.has('half_open') ? ['half_open'] : []).sort());

  // Open again, then stop the sender: it deletes its entries, and with no sender nothing is known.
  failing = true;
  const more = Array.from({ length: 6 }, () => job({ destination: 'flaky' }));
  for (const j of more) await h.publishJob(j);
  await waitFor('open', 'open again');
  await h.sender.stop(1_000);
  await waitFor('unknown', 'unknown once no sender runs');
});

void t.test('an entry no longer rewritten fades: a dead sender does not hold a circuit open', async (t) => {
  const h = await withSender(t, {}, TOKENS_ENV);
  const client = await withAdmin(t, h.bus, h.config);
  await putDestination(h.bus, { v: 1, id: 'quiet', type: 'webhook', url: 'http://127.0.0.1:9/' });
  const kv = await h.bus.kv(BUCKETS.state);
  const now = Date.now();
  await kv.put(
    circuitKey('quiet', 'host/123/sender/dead'),
    encodeCircuitReport({
      v: 1,
      state: 'open',
      since: now,
      holder: 'host/123/sender/dead',
      failureRate: 1,
      until: now + 60_000,
      everyMs: 1_500,
    }),
  );
  const circuit = async (): Promise<string> =>
    (
      (await client.call('GET', '/api/v1/destinations/quiet', { token: READ_TOKEN })).body as {
        circuit: string;
      }
    ).circuit;
  t.equal(await circuit(), 'open', 'a fresh entry counts');
  await waitUntil(async () => (await circuit()) === 'closed', 30_000, 'closed after 2 × everyMs');
  t.ok(Date.now() - now >= 2_900, `not before 2 × everyMs (${Date.now() - now} ms)`);
});

// Every classification of an attempt against real local HTTP servers: 408, 429, 5xx and network
// errors (refused, DNS, TLS, timeout) retried; 410 disables the destination; other 4xx and 3xx
// final, each to dlq.deliver with its attempt history.
import { createServer } from 'node:net';

import t from 'tap';

import { BUCKETS, getDestination, putDestination, type Destination } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { counterValue, job, withSender } from './helpers.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

void t.test('classification', async (t) => {
  const h = await withSender(t);
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const sent = await h.bus.kv(BUCKETS.sent);
  /** Scripted answers per delivery id: the n-th request of that id gets script[n] (then 200). */
  const scripts = new Map<
    string,
    Array<number | { status: number; delayMs?: number; headers?: Record<string, string> }>
  >();
  sink.respond((req) => {
    const id = String(req.headers['webhook-id'] ?? req.headers['idempotency-key']);
    const seen = sink.requests.filter((r) => r.headers['idempotency-key'] === id).length - 1;
    return scripts.get(id)?.[seen] ?? 200;
  });
  const put = (d: Partial<Destination> & { id: string }): Promise<number> =>
    putDestination(h.bus, { v: 1, type: 'webhook', url: `${sink.url}/hook`, ...d } as Destination);
  // Failures here are scripted: the circuit must not open (circuit.test.ts covers it).
  await put({ id: 'crm', circuit: { failureRate: 1, minRequests: 1_000 } });
  const requestsOf = (id: string) => sink.requests.filter((r) => r.headers['idempotency-key'] === id);

  await t.test('408, 429, 500, 502, 503, 504 are retried, then delivered once', async (t) => {
    const jobs = [408, 429, 500, 502, 503, 504].map((status) => {
      const j = job();
      scripts.set(j.deliveryId, [status]);
      return { status, j };
    });
    for (const { j } of jobs) await h.publishJob(j);
    for (const { status, j } of jobs) {
      await waitUntil(
        async () => (await sent.get(j.deliveryId)) !== null,
        15_000,
        `delivery after ${status}`,
      );
      t.equal(requestsOf(j.deliveryId).length, 2, `${status}: one retry`);
    }
    t.equal(
      await counterValue(h.metrics, 'cairn_delivery_attempts_total', {
        outcome: 'retry',
        status_class: '5xx',
      }),
      4,
    );
    t.equal(
      await counterValue(h.metrics, 'cairn_delivery_attempts_total', {
        outcome: 'retry',
        status_class: '4xx',
      }),
      2,
    );
    t.ok(
      (await counterValue(h.metrics, 'cairn_delivery_attempts_total', {
        outcome: 'ok',
        status_class: '2xx',
      })) >= 6,
    );
  });

  await t.test('400, 401, 403, 404, 422 and 301 are final: dlq.deliver after one attempt', async (t) => {
    const jobs = [400, 401, 403, 404, 422, 301].map((status) => {
      const j = job();
      scripts.set(j.deliveryId, [status, status]);
      return { status, j };
    });
    for (const { j } of jobs) await h.publishJob(j);
    await waitUntil(async () => (await h.deliveryDlq()).length >= jobs.length, 15_000, 'dlq records');
    const records = await h.deliveryDlq();
    for (const { status, j } of jobs) {
      const rec = records.find((r) => r.deliveryId === j.deliveryId);
      t.equal(rec?.reason, `http_${status}`, `${status} -> http_${status}`);
      t.equal(rec?.stage, 'sender');
      t.equal(rec?.destination, 'crm');
      t.equal(rec?.attempts?.length, 1, `${status}: one attempt in the history`);
      t.equal(rec?.attempts?.[0]?.status, status);
      t.equal(requestsOf(j.deliveryId).length, 1, `${status}: not retried`);
      t.equal(await sent.get(j.deliveryId), null);
    }
  });

  await t.test('a final job too large for its DLQ record is recorded cut, not retried', async (t) => {
    // 800 KB: a job the server takes, whose record (base64 and attempts) would not fit 1 MB.
    const j = job({ payload: { event: 'Big', blob: 'x'.repeat(800_000) } });
    scripts.set(j.deliveryId, [400, 400]);
    await h.publishJob(j);
    await waitUntil(
      async () => (await h.deliveryDlq()).some((r) => r.deliveryId === j.deliveryId),
      15_000,
      'its dlq record',
    );
    const rec = (await h.deliveryDlq()).find((r) => r.deliveryId === j.deliveryId)!;
    t.equal(rec.reason, 'http_400');
    t.equal(rec.truncated, true, 'the payload is cut');
    t.ok(rec.payloadBytes! > 800_000, `payloadBytes names the whole (${rec.payloadBytes})`);
    t.ok(Buffer.from(rec.payload, 'base64').byteLength <= 128 * 1_024, 'what is kept fits');
    t.equal(rec.attempts?.length, 1, 'the attempt history is kept');
    t.equal(requestsOf(j.deliveryId).length, 1, 'sent once');
  });

  await t.test('network errors are retried: refused, DNS, TLS, timeout', async (t) => {
    const budget = 1_500;
    const port = await closedPort();
    await put({ id: 'refused', url: `http://127.0.0.1:${port}/hook`, retryBudgetMs: budget });
    await put({ id: 'nodns', url: 'http://cairn-test-destination.invalid/hook', retryBudgetMs: budget });
    await put({ id: 'tls', url: `https://127.0.0.1:${sink.port}/hook`, retryBudgetMs: budget });
    await put({ id: 'slow', timeoutMs: 200, retryBudgetMs: budget });
    const cases = [
      { dest: 'refused', detail: /ECONNREFUSED/ },
      { dest: 'nodns', detail: /ENOTFOUND|EAI_AGAIN/ },
      { dest: 'tls', detail: /network:/ },
      { dest: 'slow', detail: /network: .*(Timeout|Abort|timeout)/i },
    ];
    const jobs = cases.map((c) => {
      const j = job({ destination: c.dest });
      scripts.set(
        j.deliveryId,
        Array.from({ length: 20 }, () => ({ status: 200, delayMs: 1_000 })),
      );
      return { ...c, j };
    });
    for (const { j } of jobs) await h.publishJob(j);
    await waitUntil(
      async () => {
        const recs = await h.deliveryDlq();
        return jobs.every(({ j }) => recs.some((r) => r.deliveryId === j.deliveryId));
      },
      20_000,
      'network failures exhausted',
    );
    const records = await h.deliveryDlq();
    for (const { dest, detail, j } of jobs) {
      const rec = records.find((r) => r.deliveryId === j.deliveryId)!;
      t.equal(rec.reason, 'retry_budget_exhausted', `${dest}: retried until the budget ran out`);
      t.ok(rec.attempts!.length >= 2, `${dest}: ${rec.attempts!.length} attempts`);
      for (const a of rec.attempts!) {
        t.equal(a.outcome, 'retry');
        t.match(a.detail, detail, `${dest}: ${a.detail}`);
      }
      t.same(
        rec.attempts!.map((a) => a.n),
        rec.attempts!.map((_, i) => i + 1),
        'attempts numbered',
      );
      const last = rec.attempts!.at(-1)!;
      t.ok(last.at - rec.attempts![0]!.at <= budget, 'all within the budget');
    }
  });

  await t.test('410 disables the destination; its jobs go to the DLQ without a request', async (t) => {
    await put({ id: 'gone' });
    const first = job({ destination: 'gone' });
    scripts.set(first.deliveryId, [410]);
    await h.publishJob(first);
    await waitUntil(
      async () => (await getDestination(h.bus, 'gone'))?.disabled !== undefined,
      10_000,
      'disabled',
    );
    const dest = await getDestination(h.bus, 'gone');
    t.match(dest?.disabled?.reason, /410/);
    const second = job({ destination: 'gone' });
    await h.publishJob(second);
    await waitUntil(
      async () => (await h.deliveryDlq()).some((r) => r.deliveryId === second.deliveryId),
      10_000,
      'second job in dlq',
    );
    const recs = await h.deliveryDlq();
    t.equal(recs.find((r) => r.deliveryId === first.deliveryId)?.reason, 'gone');
    t.equal(recs.find((r) => r.deliveryId === second.deliveryId)?.reason, 'destination_disabled');
    t.equal(requestsOf(second.deliveryId).length, 0, 'no request to a disabled destination');

    // `put` again (the operator fixed it) re-enables it.
    await put({ id: 'gone' });
    const third = job({ destination: 'gone' });
    await h.publishJob(third);
    await waitUntil(
      async () => (await sent.get(third.deliveryId)) !== null,
      10_000,
      'delivered after re-enable',
    );
    t.pass('re-enabled by put');
  });

  await t.test('Retry-After as an HTTP date is honoured', async (t) => {
    const j = job();
    const at = new Date(Math.ceil((Date.now() + 2_500) / 1_000) * 1_000);
    scripts.set(j.deliveryId, [{ status: 503, headers: { 'retry-after': at.toUTCString() } }]);
    await h.publishJob(j);
    await waitUntil(async () => (await sent.get(j.deliveryId)) !== null, 15_000, 'delivered');
    const [a, b] = requestsOf(j.deliveryId);
    t.ok(b!.at >= at.getTime() - 50, `second attempt at the date (${b!.at - a!.at} ms later)`);
  });
});

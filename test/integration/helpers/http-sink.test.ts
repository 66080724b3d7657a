import t from 'tap';

import { startHttpSink } from '../../helpers/http-sink.js';

void t.test('the sink records requests and answers per request', async (t) => {
  const sink = await startHttpSink((_req, i) =>
    i === 0 ? { status: 503, headers: { 'retry-after': '1' } } : 204,
  );
  t.teardown(() => sink.close());
  const post = (body: unknown) =>
    fetch(`${sink.url}/hook?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'd1' },
      body: JSON.stringify(body),
    });
  const first = await post({ a: 1 });
  t.equal(first.status, 503);
  t.equal(first.headers.get('retry-after'), '1');
  t.equal((await post({ a: 2 })).status, 204);
  const got = await sink.waitFor(2, 1_000);
  t.same(
    got.map((r) => [r.method, r.path, r.headers['webhook-id'], r.body]),
    [
      ['POST', '/hook?x=1', 'd1', { a: 1 }],
      ['POST', '/hook?x=1', 'd1', { a: 2 }],
    ],
  );
  t.ok(got[1]!.at >= got[0]!.at);
  sink.respond(() => 200);
  void post({ a: 3 });
  await sink.waitFor((rs) => rs.some((r) => (r.body as { a: number }).a === 3), 2_000);
  await t.rejects(sink.waitFor(10, 50), /condition not met/);
});

void t.test('the sink can reset the connection instead of answering', async (t) => {
  const sink = await startHttpSink(() => ({ status: 200, reset: true }));
  t.teardown(() => sink.close());
  await t.rejects(fetch(`${sink.url}/hook`, { method: 'POST', body: '{"a":1}' }));
  t.same(
    sink.requests.map((r) => r.body),
    [{ a: 1 }],
    'the request was received before the reset',
  );
});

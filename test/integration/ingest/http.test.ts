// The Segment HTTP Tracking API with raw requests, as curl would send them: auth, limits, every
// malformed case, the 200 that means stored, timestamp correction and messageId dedupe.
import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { withIngest, type IngestHarness } from './helpers.js';

const KEY = 'wk_test';
const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

interface Answer {
  status: number;
  body: { success?: boolean; code?: string; message?: string };
}

async function post(
  h: { ingest: { httpPort: number | undefined } },
  path: string,
  body: unknown,
  headers: Record<string, string> = { authorization: basic(KEY) },
): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${h.ingest.httpPort}/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

async function eventsStored(h: IngestHarness): Promise<number> {
  return (await h.bus.jsm.streams.info('EVENTS')).state.messages;
}

async function start(t: Parameters<typeof withIngest>[0], env: Record<string, string> = {}) {
  return withIngest(t, { CAIRN_WRITE_KEYS: `${KEY}:web,other`, ...env }, { http: { port: 0 } });
}

void t.test('auth: Basic with the write key, or writeKey in the body; anything else is 401', async (t) => {
  const h = await start(t);
  const event = { userId: 'u1', event: 'Signed Up' };
  t.match(await post(h, 'track', event, {}), {
    status: 401,
    body: { success: false, code: 'CAIRN_E_HTTP_UNAUTHORIZED' },
  });
  t.match(await post(h, 'track', event, { authorization: basic('nope') }), { status: 401 });
  t.match(await post(h, 'track', { ...event, writeKey: 'nope' }, {}), { status: 401 });
  t.match(await post(h, 'track', 'not json', {}), { status: 401 }, 'no key is checked before the body');
  t.match(await post(h, 'track', '', {}), { status: 401 }, 'an empty body without a key');
  t.same(await post(h, 'track', { ...event, messageId: 'm-basic' }), {
    status: 200,
    body: { success: true },
  });
  t.same(await post(h, 'track', { ...event, messageId: 'm-body', writeKey: 'other' }, {}), {
    status: 200,
    body: { success: true },
  });
  await waitUntil(() => h.routed.length === 2, 10_000, 'both routed');
  const stored = await h.bus.jsm.streams.getMessage('EVENTS', { last_by_subj: 'events.track' });
  t.notOk('writeKey' in (stored?.json<Record<string, unknown>>() ?? {}), 'the write key is not stored');
  t.equal(stored?.header?.get('Nats-Msg-Id'), 'm-body');
  t.equal(stored?.header?.get('Cairn-Source'), '', 'a key without a source name: no source');
  const first = await h.bus.jsm.streams.getMessage('EVENTS', { seq: 1 });
  t.equal(first?.header?.get('Cairn-Source'), 'web', 'the source named with the key');
});

void t.test('no write keys configured: every request is 401', async (t) => {
  const h = await withIngest(t, {}, { http: { port: 0 } });
  t.match(await post(h, 'track', { userId: 'u1', event: 'X' }), { status: 401 });
});

void t.test('a 200 means stored in EVENTS; each type has its path', async (t) => {
  const h = await start(t);
  const cases: Array<[string, Record<string, unknown>]> = [
    ['track', { userId: 'u1', event: 'Order Completed', properties: { total: 3 } }],
    ['identify', { userId: 'u1', traits: { email: 'u1@example.com' } }],
    ['page', { anonymousId: 'a1', name: 'Home' }],
    ['screen', { userId: 'u1', name: 'Cart' }],
    ['group', { userId: 'u1', groupId: 'g1' }],
    ['alias', { userId: 'u1', previousId: 'a1' }],
  ];
  for (const [path, body] of cases) {
    const before = await eventsStored(h);
    t.same(await post(h, path, body), { status: 200, body: { success: true } }, path);
    t.equal(await eventsStored(h), before + 1, `${path}: stored before the answer`);
  }
  await waitUntil(() => h.routed.length === cases.length, 10_000, 'all routed');
  t.same(h.routed.map((r) => r.event.type).sort(), cases.map(([p]) => p).sort(), 'one of each type routed');
  t.ok(
    h.routed.every((r) => /^[0-9a-f-]{36}$/.test(r.event.messageId)),
    'events without messageId get one',
  );
  t.same(h.dlq, []);
});

void t.test('malformed requests: 400 with the reason, nothing stored', async (t) => {
  const h = await start(t);
  const good = { type: 'track', userId: 'u1', event: 'E' };
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['invalid JSON', 'track', '{"userId": "u1", ', /invalid JSON at line 1/],
    ['invalid JSON in a batch', 'batch', '{"batch": [}', /invalid JSON/],
    ['empty body', 'track', '', /empty/],
    ['not an object', 'track', [good], /must be a JSON object, got an array/],
    ['a string', 'identify', '"hello"', /must be a JSON object/],
    ['event over 32 KB', 'track', { ...good, properties: { x: 'x'.repeat(33 * 1024) } }, /over 32768 bytes/],
    [
      'batch over 500 KB',
      'batch',
      { batch: Array.from({ length: 20 }, () => ({ ...good, p: 'x'.repeat(30_000) })) },
      /over 512000 bytes/,
    ],
    [
      'batch over 2,500 events',
      'batch',
      { batch: Array.from({ length: 2_501 }, () => ({ type: 't' })) },
      /2501 events; the limit is 2500/,
    ],
    ['batch not an array', 'batch', { batch: good }, /"batch" must be an array/],
    ['batch without batch', 'batch', { sentAt: '2026-01-01T00:00:00Z' }, /"batch" must be an array/],
    ['batch item not an object', 'batch', { batch: [good, 42] }, /batch\[1\] must be an event object/],
    [
      'batch item over 32 KB',
      'batch',
      { batch: [good, { ...good, p: 'x'.repeat(33_000) }] },
      /batch\[1\] is \d+ bytes; the limit is 32768/,
    ],
  ];
  for (const [what, path, body, reason] of cases) {
    const res = await post(h, path, typeof body === 'string' ? body : JSON.stringify(body));
    t.equal(res.status, 400, what);
    t.equal(res.body.success, false, what);
    t.match(res.body.message, reason, what);
  }
  t.equal(await eventsStored(h), 0, 'nothing stored');
  const metrics = await h.metrics.registry.getSingleMetricAsString('cairn_http_requests_total');
  t.match(metrics, /cairn_http_requests_total\{path="batch",status="400"\} 7/);
});

void t.test(
  'a batch is accepted whole; what Segment drops later lands in dlq.ingest with its reason',
  async (t) => {
    const h = await start(t);
    const res = await post(h, 'batch', {
      batch: [
        { type: 'track', event: 'Nobody', messageId: 'b-1' },
        { type: 'track', userId: 'u1', messageId: 'b-2' },
        { type: 'launch', userId: 'u1', messageId: 'b-3' },
        { userId: 'u1', event: 'No type', messageId: 'b-4' },
        { type: 'track', userId: 'u1', event: 'Fine', messageId: 'b-5' },
        { type: 'identify', anonymousId: 'a-9', traits: { plan: 'pro' }, messageId: 'b-6' },
      ],
    });
    t.same(res, { status: 200, body: { success: true } });
    await waitUntil(() => h.dlq.length === 4 && h.routed.length === 2, 10_000, 'dlq and routed');
    t.same(h.dlq.map((r) => r.reason).sort(), [
      'CAIRN_E_EVENT_NO_IDENTITY',
      'CAIRN_E_EVENT_TRACK_NO_EVENT',
      'CAIRN_E_EVENT_UNKNOWN_TYPE',
      'CAIRN_E_EVENT_UNKNOWN_TYPE',
    ]);
    t.ok(
      h.dlq.every((r) => r.detail !== undefined && r.detail.length > 10),
      'each with a reason',
    );
    t.same(h.routed.map((r) => r.event.messageId).sort(), ['b-5', 'b-6']);
    const dlq = await h.metrics.dlq.get();
    t.equal(
      dlq.values.reduce((n, v) => n + v.value, 0),
      4,
      'counted',
    );
  },
);

void t.test('timestamps: receivedAt - (sentAt - originalTimestamp), with the batch sentAt', async (t) => {
  const h = await start(t);
  // A device clock two days behind: the call happened 1.5 s before the send.
  const res = await post(h, 'batch', {
    sentAt: '2026-01-01T00:00:01.500Z',
    batch: [
      {
        type: 'track',
        userId: 'u1',
        event: 'A',
        originalTimestamp: '2026-01-01T00:00:00.000Z',
        messageId: 't-1',
      },
      // An item's own sentAt wins over the batch's.
      {
        type: 'track',
        userId: 'u1',
        event: 'B',
        originalTimestamp: '2026-01-01T00:00:00.000Z',
        sentAt: '2026-01-01T00:00:00.250Z',
        messageId: 't-2',
      },
    ],
  });
  t.equal(res.status, 200);
  await waitUntil(() => h.routed.length === 2, 10_000, 'routed');
  const [a, b] = h.routed.map((r) => r.event);
  t.equal(a!.timestamp, a!.receivedAt - 1_500);
  t.equal(b!.timestamp, b!.receivedAt - 250);
  t.ok(Math.abs(a!.receivedAt - Date.now()) < 10_000, 'receivedAt is the arrival, on the server clock');
});

void t.test('messageId dedupe: within the stream window, and in ingest state after it', async (t) => {
  const h = await start(t, { CAIRN_DEDUPE_WINDOW: '1s' });
  const event = { userId: 'u1', event: 'Paid', messageId: 'dup-1' };
  t.equal((await post(h, 'track', event)).status, 200);
  t.equal((await post(h, 'track', event)).status, 200, 'a repeat is still a 200');
  t.equal(await eventsStored(h), 1, 'the stream dropped the repeat');
  // Past the stream's 1 s window the stream stores the repeat again; ingest's 24 h state drops it.
  await waitUntil(
    async () => {
      await post(h, 'track', event);
      return (await eventsStored(h)) === 2;
    },
    10_000,
    'the stream window to pass',
  );
  await post(h, 'track', { userId: 'u1', event: 'Paid', messageId: 'dup-2' });
  await waitUntil(() => h.routed.length === 2, 10_000, 'the next event routed');
  t.same(
    h.routed.map((r) => r.event.messageId),
    ['dup-1', 'dup-2'],
    'the repeat is not routed',
  );
  const dups = await h.metrics.registry.getSingleMetricAsString('cairn_ingest_duplicates_total');
  t.match(dups, /cairn_ingest_duplicates_total 1/);
});

void t.test('browsers: text/plain bodies, CORS preflight; /healthz /readyz /metrics', async (t) => {
  const h = await start(t);
  const base = `http://127.0.0.1:${h.ingest.httpPort}`;
  const plain = await fetch(`${base}/v1/page`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ anonymousId: 'a1', name: 'Home', writeKey: KEY }),
  });
  t.equal(plain.status, 200);
  t.equal(plain.headers.get('access-control-allow-origin'), '*');
  const pre = await fetch(`${base}/v1/batch`, { method: 'OPTIONS' });
  t.equal(pre.status, 204);
  t.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /cairn_http_events_total\{type="page"\} 1/);
  t.match(metrics, /cairn_http_ack_seconds_count 1/);
  t.equal((await fetch(`${base}/v1/nope`, { method: 'POST', body: '{}' })).status, 404);
});

void t.test(
  'JetStream unavailable: 503 with Retry-After (the library retries), then 200 again',
  async (t) => {
    const h = await start(t);
    t.equal((await post(h, 'track', { userId: 'u1', event: 'Before', messageId: 'x-1' })).status, 200);
    await h.server.kill();
    const down = await fetch(`http://127.0.0.1:${h.ingest.httpPort}/v1/track`, {
      method: 'POST',
      headers: { authorization: basic(KEY) },
      body: JSON.stringify({ userId: 'u1', event: 'During', messageId: 'x-2' }),
    });
    t.equal(down.status, 503);
    t.equal(down.headers.get('retry-after'), '1');
    t.match(await down.json(), { success: false, code: 'CAIRN_E_HTTP_UNAVAILABLE' });
    await h.server.restart();
    await waitUntil(
      async () =>
        (await post(h, 'track', { userId: 'u1', event: 'During', messageId: 'x-2' })).status === 200,
      30_000,
      'accepted again after the restart',
    );
    await waitUntil(
      () => h.routed.some((r) => r.event.messageId === 'x-2'),
      30_000,
      'routed after the restart',
    );
    t.pass('the retried event is routed');
  },
);

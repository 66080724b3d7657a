// Clients that hold sockets, with real sockets on loopback: a request whose headers trickle in is
// answered 408 and closed at the headers timeout, connections over the total or per-address cap
// are closed as they arrive, normal requests are served meanwhile, and a wrong Basic key with a
// body that never comes is answered 401 at once.
import { connect, type Socket } from 'node:net';

import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { withIngest, type IngestHarness } from './helpers.js';

const KEY = 'wk_conn';
const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** A raw client socket that records what it received and when it was closed. */
interface Client {
  socket: Socket;
  received: string;
  closedAt?: number;
}

async function open(port: number, localAddress = '127.0.0.1'): Promise<Client> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  const client: Client = { socket, received: '' };
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (client.received += d));
  socket.on('error', () => undefined); // a refused connection is reset: 'close' tells the test
  socket.on('close', () => (client.closedAt = Date.now()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return client;
}

/** A keep-alive GET /healthz on an open socket: answered 200 only when the server kept it. */
async function healthz(c: Client): Promise<boolean> {
  c.socket.write('GET /healthz HTTP/1.1\r\nHost: cairn\r\n\r\n');
  await waitUntil(
    () => c.received.includes('"ok"') || c.closedAt !== undefined,
    10_000,
    'an answer or a close',
  );
  return c.received.startsWith('HTTP/1.1 200');
}

async function track(h: IngestHarness, messageId: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${h.ingest.httpPort}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(KEY) },
    body: JSON.stringify({ userId: 'u1', event: 'Ping', messageId }),
  });
  await res.text();
  return res.status;
}

void t.test(
  'a request whose headers trickle in is answered 408 and closed at the headers timeout',
  async (t) => {
    const h = await withIngest(
      t,
      { CAIRN_WRITE_KEYS: KEY, CAIRN_HTTP_HEADERS_TIMEOUT: '1s', CAIRN_HTTP_REQUEST_TIMEOUT: '20s' },
      { http: { port: 0 } },
    );
    const port = h.ingest.httpPort ?? 0;
    const started = Date.now();
    const slow = await Promise.all(Array.from({ length: 20 }, () => open(port)));
    // One header byte every 100 ms: never idle, never done.
    const header = `POST /v1/track HTTP/1.1\r\nHost: cairn\r\nX-Slow: ${'a'.repeat(10_000)}`;
    let i = 0;
    const drip = setInterval(() => {
      for (const c of slow) if (c.closedAt === undefined) c.socket.write(header.charAt(i));
      i++;
    }, 100);
    t.teardown(() => clearInterval(drip));

    t.equal(await track(h, 'm-meanwhile'), 200, 'a normal request is served meanwhile');
    await waitUntil(() => slow.every((c) => c.closedAt !== undefined), 15_000, 'every slow client closed');
    const lived = slow.map((c) => (c.closedAt ?? 0) - started);
    t.ok(Math.min(...lived) >= 900, `none closed before the timeout (first at ${Math.min(...lived)} ms)`);
    // The timeout is checked every second: closed by timeout + 1 s, long before the request timeout.
    t.ok(Math.max(...lived) < 10_000, `all closed soon after it (last at ${Math.max(...lived)} ms)`);
    t.ok(
      slow.every((c) => /^HTTP\/1\.1 408 /.test(c.received)),
      'each answered 408 Request Timeout',
    );
    t.equal(await track(h, 'm-after'), 200, 'and normal requests after');
  },
);

void t.test('connections over the per-address or the total cap are closed as they arrive', async (t) => {
  const h = await withIngest(
    t,
    { CAIRN_WRITE_KEYS: KEY, CAIRN_HTTP_MAX_CONNECTIONS: '6', CAIRN_HTTP_MAX_CONNECTIONS_PER_IP: '4' },
    { http: { port: 0 } },
  );
  const port = h.ingest.httpPort ?? 0;
  const first = await Promise.all(Array.from({ length: 4 }, () => open(port, '127.0.0.1')));
  for (const c of first) t.ok(await healthz(c), 'within the caps: served');

  const overPerIp = await open(port, '127.0.0.1');
  await waitUntil(
    () => overPerIp.closedAt !== undefined,
    10_000,
    'the 5th connection from one address closed',
  );
  t.equal(overPerIp.received, '', 'closed without reading a byte');

  const second = await Promise.all([open(port, '127.0.0.2'), open(port, '127.0.0.2')]);
  for (const c of second) t.ok(await healthz(c), 'another address: served up to the total cap');
  const overTotal = await open(port, '127.0.0.3');
  await waitUntil(() => overTotal.closedAt !== undefined, 10_000, 'the 7th connection closed');
  t.equal(overTotal.received, '');

  const refused = await h.metrics.registry.getSingleMetricAsString('cairn_http_connections_refused_total');
  t.match(refused, /limit="per_ip"} 1/);
  t.match(refused, /limit="total"} 1/);

  // Closing frees the counts: the address is served again.
  first[0]?.socket.destroy();
  second[0]?.socket.destroy();
  await waitUntil(() => first[0]?.closedAt !== undefined && second[0]?.closedAt !== undefined, 10_000);
  await waitUntil(async () => (await track(h, 'm-freed').catch(() => 0)) === 200, 10_000, 'served again');
  for (const c of [...first, ...second]) c.socket.destroy();
});

void t.test('a wrong Basic key with a body that never comes is answered 401 at once', async (t) => {
  const h = await withIngest(t, { CAIRN_WRITE_KEYS: KEY }, { http: { port: 0 } });
  const c = await open(h.ingest.httpPort ?? 0);
  const sent = Date.now();
  c.socket.write(
    'POST /v1/track HTTP/1.1\r\nHost: cairn\r\nContent-Type: application/json\r\n' +
      `Authorization: ${basic('wrong')}\r\nContent-Length: 100\r\n\r\n`,
  );
  await waitUntil(() => c.received.includes('CAIRN_E_HTTP_UNAUTHORIZED'), 5_000, 'the 401');
  t.match(c.received, /^HTTP\/1\.1 401 /);
  t.ok(Date.now() - sent < 5_000, 'before any timeout');
  await waitUntil(() => c.closedAt !== undefined, 10_000, 'the server closes the connection');
  t.equal(await track(h, 'm-ok'), 200, 'a right key is still served');
});

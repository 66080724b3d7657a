// `cairn up` serves the HTTP Tracking API next to the other services (startAllServices with
// `http`), on CAIRN_HTTP_PORT; a 200 there is routed like any event.
import { createServer, type AddressInfo } from 'node:net';

import t from 'tap';

import { loadConfig } from '../../../libs/config/index.js';
import { startLifecycle } from '../../../libs/telemetry/index.js';
import { startAllServices } from '../../../services/cli/up.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';
import { withIngest } from './helpers.js';

void t.test('cairn up: the HTTP Tracking API answers, and stops with the lifecycle', async (t) => {
  const nats = await withNats(t);
  const config = loadConfig({
    NATS_URL: nats.url,
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
    CAIRN_WRITE_KEYS: 'wk_up',
    CAIRN_SHUTDOWN_GRACE: '2s',
  });
  let port: number | undefined;
  const life = await startLifecycle({
    name: 'up',
    config,
    logger: silentLogger,
    start: (ctx) => startAllServices(ctx, { http: true, onHttp: (p) => (port = p) }),
  });
  t.teardown(() => life.stop());
  await waitUntil(() => life.isReady(), 10_000, 'every service ready');
  t.ok(port, 'the HTTP API listens');
  const res = await fetch(`http://127.0.0.1:${port}/v1/track`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('wk_up:').toString('base64')}` },
    body: JSON.stringify({ userId: 'u1', event: 'Hello', messageId: 'up-1' }),
  });
  t.same(await res.json(), { success: true });
  await waitUntil(
    async () => (await life.bus.jsm.consumers.info('EVENTS', 'ingest')).num_ack_pending === 0,
    10_000,
    'routed',
  );
  t.equal(
    ((await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string }).status,
    'ready',
  );
  await life.stop();
  await t.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'closed with the lifecycle');
});

void t.test('a taken HTTP port stops ingest at start with a readable reason', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
  t.teardown(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as AddressInfo).port;
  await t.rejects(
    withIngest(t, {}, { http: { port } }),
    /cannot serve the HTTP Tracking API on port \d+: .*set CAIRN_HTTP_PORT/,
  );
});

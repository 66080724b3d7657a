// `cairn inspect user`: instances and journal of a user, with every service running for real.
import t from 'tap';

import { loadConfig } from '../../../libs/config/index.js';
import { startLifecycle } from '../../../libs/telemetry/index.js';
import { runCli } from '../../../services/cli/cli.js';
import { startAllServices } from '../../../services/cli/up.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';
import { captureIo } from './helpers.js';

void t.test('a user waiting in a hold: instance, step, waitUntil and journal', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url, CAIRN_METRICS_PORT: '0', CAIRN_SHUTDOWN_GRACE: '1s' };
  // Published before the services start: the matcher knows the journey from its first read.
  const published = captureIo(env);
  t.equal(
    await runCli(
      ['journey', 'publish', 'examples/journeys/cart-abandonment.yaml', '--allow-missing-destinations'],
      published,
    ),
    0,
    published.text(),
  );
  const life = await startLifecycle({
    name: 'up',
    config: loadConfig(env),
    logger: silentLogger,
    start: startAllServices,
  });
  t.teardown(() => life.stop());

  const event = (cart: string) =>
    JSON.stringify({
      type: 'track',
      event: 'checkout_started',
      userId: 'user-1',
      messageId: `m-${cart}`,
      properties: { cart_id: cart, currency: 'USD', total: 42 },
    });
  await life.bus.js.publish('events.track', event('c-1'));

  let io = captureIo(env);
  await waitUntil(
    async () => {
      io = captureIo(env);
      await runCli(['inspect', 'user', 'user-1'], io);
      return io.stdout.some((l) => /waiting {2}step=wait-for-purchase/.test(l));
    },
    15_000,
    'the instance waiting in its hold',
  );
  const text = io.stdout.join('\n');
  t.match(text, /^user user-1 \(partition \d+\)/);
  t.match(
    text,
    /cart-abandonment v1 {2}active {2}step=wait-for-purchase {2}waitUntil=\d{4}-\d\d-\d\dT[^ ]+ {2}key=c-1/,
  );
  t.match(text, /cart-abandonment v1 {2}entered {2}key=c-1/);

  const json = captureIo(env);
  t.equal(await runCli(['inspect', 'user', 'user-1', '--json'], json), 0);
  const found = JSON.parse(json.stdout.join('\n')) as {
    instances: unknown[];
    journal: Array<{ userKey: string }>;
  };
  t.equal(found.instances.length, 1);
  t.ok(found.journal.every((r) => r.userKey === 'user-1'));

  const nobody = captureIo(env);
  t.equal(await runCli(['inspect', 'user', 'nobody'], nobody), 0);
  t.match(nobody.stdout.join('\n'), /instances \(0\):\n {2}none/);

  const usage = captureIo(env);
  t.equal(await runCli(['inspect', 'thing'], usage), 1);
  t.match(usage.stderr[0], /^cairn: unknown command `inspect thing`\. Use `cairn inspect user <userId>`$/);
});

// `cairn destination test <id>`: a signed sample sent now to a real local server, verified with
// the `standardwebhooks` package; failures say what the sender would do.
import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';
import t from 'tap';

import { putDestination, type Bus } from '../../../libs/bus/index.js';
import { runCli } from '../../../services/cli/cli.js';
import { withBus } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { captureIo } from './helpers.js';

void t.test('test sends a signed sample and reports the answer', async (t) => {
  const tb = await withBus(t);
  const bus: Bus = tb.bus;
  const sink = await startHttpSink((req) => (req.path === '/down' ? 503 : 200));
  t.teardown(() => sink.close());
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  await putDestination(bus, { v: 1, id: 'crm', type: 'webhook', url: `${sink.url}/hook`, secrets: [secret] });
  await putDestination(bus, { v: 1, id: 'down', type: 'webhook', url: `${sink.url}/down` });
  const env = { NATS_URL: tb.server.url, CAIRN_EGRESS_ALLOW_LOOPBACK: 'true' };

  let io = captureIo(env);
  t.equal(await runCli(['destination', 'test', 'crm'], io), 0, io.text());
  t.match(
    io.stdout[0],
    /^sent test delivery test-\S+ to http:\/\/127\.0\.0\.1:\d+\/hook: http 200 in \d+ ms \(signed with 1 secret\(s\)\)$/,
  );
  const [req] = sink.requests;
  const headers = Object.fromEntries(
    ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((k) => [k, String(req!.headers[k])]),
  );
  const body = new Webhook(secret).verify(req!.text, headers) as Record<string, unknown>;
  t.equal(body['event'], 'Cairn Destination Test');
  t.match(body, { properties: { test: true } });
  t.notMatch(io.text(), new RegExp(secret.slice(6, 20)), 'the secret is not printed');

  io = captureIo(env);
  t.equal(await runCli(['destination', 'test', 'down'], io), 1);
  t.match(io.stderr[0], /^cairn: test delivery to \S+ failed: http 503 in \d+ ms \(would be retried\)\. /);

  io = captureIo({ NATS_URL: tb.server.url });
  t.equal(await runCli(['destination', 'test', 'crm'], io), 1, 'loopback refused without the dev setting');
  t.match(io.stderr[0], /failed: .*a denied network.*would go to the DLQ/);

  io = captureIo(env);
  t.equal(await runCli(['destination', 'test', 'nope'], io), 1);
  t.match(io.stderr[0], /destination nope does not exist/);
});

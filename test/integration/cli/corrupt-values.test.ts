// A corrupt or wrong-shaped value in a bucket (written by anyone with KV access, or by a future
// version) is reported for its key, in one clear line, and the other keys keep working.
import t from 'tap';

import { BUCKETS, connectBus } from '../../../libs/bus/index.js';
import { runCli } from '../../../services/cli/cli.js';
import { silentLogger } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';
import { captureIo } from './helpers.js';

const CART = 'examples/journeys/cart-abandonment.yaml';

void t.test('journey list, show and publish with a corrupt head', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  let io = captureIo(env);
  t.equal(await runCli(['journey', 'publish', CART, '--allow-missing-destinations'], io), 0, io.text());

  const bus = await connectBus({ url: nats.url, name: 'test', logger: silentLogger });
  t.teardown(() => bus.close());
  const kv = await bus.kv(BUCKETS.journeys);
  await kv.put('x', new TextEncoder().encode('garbage {'));
  await kv.put(
    'wrong-shape',
    new TextEncoder().encode(JSON.stringify({ v: 1, id: 'wrong-shape', latest: 'two' })),
  );

  io = captureIo(env);
  t.equal(await runCli(['journey', 'list'], io), 0, 'list still works');
  t.same(io.stdout, ['cart-abandonment  active v1  (v1 active)'], 'the readable journeys are listed');
  t.equal(io.stderr.length, 2);
  t.match(io.stderr.join('\n'), /journeys\/x: the stored value is not JSON/);
  t.match(io.stderr.join('\n'), /journeys\/wrong-shape: the stored value does not fit its schema: latest /);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'show', 'wrong-shape'], io), 1);
  t.equal(io.stderr.length, 1, 'one line');
  t.match(
    io.stderr[0],
    /^cairn: CAIRN_E_BUS_VALUE_INVALID: journeys\/wrong-shape: the stored value does not fit its schema: latest .*; active .*; versions .*\. Write that key again/,
  );
  t.notMatch(io.stderr[0], /"code":|\[\s*\{/, 'no raw zod dump');

  // A corrupt version of a good head.
  await kv.put('cart-abandonment.v1', new TextEncoder().encode('{"v":1}'));
  io = captureIo(env);
  t.equal(await runCli(['journey', 'show', 'cart-abandonment'], io), 1);
  t.match(io.stderr[0], /^cairn: CAIRN_E_BUS_VALUE_INVALID: journeys\/cart-abandonment\.v1: .*id /);

  // Publishing over a corrupt head says which key is at fault.
  await kv.put('cart-abandonment', new TextEncoder().encode('[]'));
  io = captureIo(env);
  t.equal(await runCli(['journey', 'publish', CART, '--allow-missing-destinations'], io), 1);
  t.match(
    io.stderr.at(-1),
    /^cairn: CAIRN_E_BUS_VALUE_INVALID: journeys\/cart-abandonment: .*\. Write that key again/,
  );
});

void t.test('destination show with a corrupt value names the key', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  const bus = await connectBus({ url: nats.url, name: 'test', logger: silentLogger });
  t.teardown(() => bus.close());
  let io = captureIo(env);
  t.equal(await runCli(['journey', 'list'], io), 0, 'provisioned');
  const kv = await bus.kv(BUCKETS.destinations);
  await kv.put('crm', new TextEncoder().encode('{"v":1,"type":"webhook"}'));
  io = captureIo(env);
  t.equal(await runCli(['destination', 'show', 'crm'], io), 1);
  t.equal(io.stderr.length, 1);
  t.match(io.stderr[0], /^cairn: CAIRN_E_DESTINATION_INVALID: destinations\/crm: .*url/);
});

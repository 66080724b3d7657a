// `cairn journey preview <file|id> --step <step> --event <json>`: the exact payload a send step
// builds (the simulator's core), from a file offline or from the stored journey, with the 32 KB
// check.
import t from 'tap';

import { runCli } from '../../../services/cli/cli.js';
import { withNats } from '../../helpers/nats-server.js';
import { captureIo } from './helpers.js';

const FILE = 'examples/journeys/cart-abandonment.yaml';
const EVENT = JSON.stringify({
  event: 'checkout_started',
  userId: 'u1',
  properties: { cart_id: 'c-9', currency: 'USD', total: 42 },
});

void t.test('from a file: the mapped payload with the step key and delivery id', async (t) => {
  const io = captureIo();
  const code = await runCli(
    [
      'journey',
      'preview',
      FILE,
      '--step',
      'nudge',
      '--event',
      EVENT,
      '--profile',
      '{"traits":{"email":"a@example.com"}}',
    ],
    io,
  );
  t.equal(code, 0, io.text());
  const last = io.stderr.at(-1)!;
  t.match(last, /^# \d+ bytes \(limit 32768\); cart-abandonment v1, step nudge$/);
  t.equal(io.stdout.length, 1, 'stdout is the payload alone');
  const payload = JSON.parse(io.stdout[0]!) as Record<string, unknown>;
  t.equal(payload['email'], 'a@example.com');
  t.equal(payload['cart_id'], 'c-9');
  t.equal(payload['total'], 42);
  t.match(JSON.stringify(payload), /nudge/, 'the step key is in the payload');
  t.equal(
    Number(/# (\d+) bytes/.exec(last)![1]),
    Buffer.byteLength(JSON.stringify(payload)),
    'bytes of the JSON',
  );
});

void t.test('errors: not a send step, over 32 KB, a bad event', async (t) => {
  let io = captureIo();
  t.equal(await runCli(['journey', 'preview', FILE, '--step', 'wait-for-purchase', '--event', EVENT], io), 1);
  t.match(io.stderr[0], /CAIRN_E_SEND_NOT_A_SEND_STEP.*Send steps of cart-abandonment: nudge, thanks/);

  const dir = t.testdir({
    'big.yaml': [
      'id: big',
      'name: Big',
      'trigger: { event: signup }',
      'entry: { mode: once }',
      'steps:',
      '  - id: send',
      '    type: send',
      '    to: [crm]',
      '    event: Big',
      '    payload: { blob: entry.properties.blob }',
      '    next: end',
      '  - { id: end, type: exit }',
      '',
    ].join('\n'),
  });
  io = captureIo();
  const big = JSON.stringify({ event: 'signup', userId: 'u1', properties: { blob: 'x'.repeat(40_000) } });
  t.equal(
    await runCli(['journey', 'preview', `${dir}/big.yaml`, '--step', 'send', '--event', big], io),
    1,
    io.text(),
  );
  t.match(
    io.stderr.at(-1),
    /CAIRN_E_SEND_PAYLOAD_TOO_LARGE: the payload takes \d+ bytes, over the limit of 32768/,
  );

  io = captureIo();
  t.equal(await runCli(['journey', 'preview', FILE, '--step', 'nudge', '--event', '{"event":"x"}'], io), 1);
  t.match(io.stderr[0], /neither userId nor anonymousId/);
  io = captureIo();
  t.equal(await runCli(['journey', 'preview', FILE, '--step', 'nudge', '--event', 'nope'], io), 1);
  t.match(io.stderr[0], /--event is not JSON/);
});

void t.test('from the stored journey by id', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  let io = captureIo(env);
  t.equal(await runCli(['journey', 'publish', FILE, '--allow-missing-destinations'], io), 0, io.text());
  io = captureIo(env);
  t.equal(
    await runCli(['journey', 'preview', 'cart-abandonment', '--step', 'thanks', '--event', EVENT], io),
    0,
    io.text(),
  );
  t.match(io.stderr.at(-1), /cart-abandonment v1, step thanks/);
  t.match(io.stdout.join('\n'), /Thanks For Your Order/);
  io = captureIo(env);
  t.equal(await runCli(['journey', 'preview', 'no-such-journey', '--step', 'x', '--event', EVENT], io), 1);
  t.match(io.stderr[0], /neither a file nor a stored journey/);
});

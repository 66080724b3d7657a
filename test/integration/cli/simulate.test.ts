// `cairn simulate`: offline, the examples over a short event script.
import t from 'tap';

import { runCli } from '../../../services/cli/cli.js';
import { captureIo } from './helpers.js';

const EVENTS = [
  { at: '0s', type: 'identify', userId: 'u1', traits: { email: 'ada@example.com' } },
  {
    at: '1s',
    name: 'checkout_started',
    userId: 'u1',
    properties: { cart_id: 'c-1', currency: 'USD', total: 42 },
  },
  {
    at: '1s',
    name: 'checkout_started',
    userId: 'u1',
    properties: { cart_id: 'c-2', currency: 'USD', total: 17 },
  },
  { at: '3s', name: 'purchase_completed', userId: 'u1', properties: { cart_id: 'c-2', total: 17 } },
  { at: 4000, name: 'form_submitted', userId: 'u1', properties: { form: 'contact' } },
];
const JOURNEYS = ['examples/journeys/cart-abandonment.yaml', 'examples/journeys/form-forwarding.yaml'];

void t.test('prints one line per journal record and send, at virtual times', async (t) => {
  const dir = t.testdir({ 'events.ndjson': EVENTS.map((e) => JSON.stringify(e)).join('\n') + '\n' });
  const io = captureIo();
  t.equal(await runCli(['simulate', ...JOURNEYS, '--events', `${dir}/events.ndjson`], io), 0, io.text());
  const sends = io.stdout.filter((l) => / send /.test(l));
  t.match(sends, [
    /^\+3\.000s {2}cart-abandonment {2}send {2}step=thanks -> demo-webhook {2}"Thanks For Your Order"/,
    /^\+4\.000s {2}form-forwarding {2}send {2}step=forward -> demo-webhook {2}"Form Submitted"/,
    /^\+6\.000s {2}cart-abandonment {2}send {2}step=nudge -> demo-webhook/,
  ]);
  t.ok(io.stdout.includes('+1.000s  cart-abandonment  u1  entered  key=c-1'), io.stdout.join('\n'));
  t.ok(
    io.stdout.some((l) =>
      l.startsWith(
        '+6.000s  cart-abandonment  u1  timer.fired  step=wait-for-purchase reason=timeout key=c-1',
      ),
    ),
  );
});

void t.test('--json prints the whole timeline; --profiles seeds traits', async (t) => {
  const dir = t.testdir({
    'events.ndjson': JSON.stringify(EVENTS[1]) + '\n',
    'profiles.json': JSON.stringify({ u1: { traits: { email: 'seeded@example.com' } } }),
  });
  const io = captureIo();
  const code = await runCli(
    [
      'simulate',
      JOURNEYS[0]!,
      '--events',
      `${dir}/events.ndjson`,
      '--profiles',
      `${dir}/profiles.json`,
      '--json',
    ],
    io,
  );
  t.equal(code, 0, io.text());
  const timeline = JSON.parse(io.stdout.join('\n')) as { sends: Array<{ payload: Record<string, unknown> }> };
  t.equal(timeline.sends.length, 1);
  t.equal(timeline.sends[0]?.payload['email'], 'seeded@example.com');
});

void t.test('bad input is one clear line', async (t) => {
  const dir = t.testdir({
    'events.ndjson': '{"at": "1s", "name": "x", "userId": "u"}\nnot json\n',
    'no-at.ndjson': '{"name":"x","userId":"u"}\n',
  });
  let io = captureIo();
  t.equal(await runCli(['simulate', JOURNEYS[0]!, '--events', `${dir}/events.ndjson`], io), 1);
  t.match(io.stderr[0], /^cairn: .*events\.ndjson:2 is not JSON .*\. Write one JSON object per line$/);

  io = captureIo();
  t.equal(await runCli(['simulate', JOURNEYS[0]!, '--events', `${dir}/no-at.ndjson`], io), 1);
  t.match(io.stderr[0], /no-at\.ndjson:1 has no valid "at"/);

  io = captureIo();
  t.equal(await runCli(['simulate', JOURNEYS[0]!], io), 1);
  t.match(io.stderr[0], /^cairn: missing --events <file\.ndjson>\. /);

  io = captureIo();
  t.equal(await runCli(['simulate', '--help'], io), 0);
  t.match(io.stdout[0], /^Usage: cairn simulate/);
});

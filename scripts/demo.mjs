// `make run`: Cairn end to end on one machine. Starts a webhook sink on 127.0.0.1:8099 that
// prints each delivery, `cairn up` (which starts a local nats-server when NATS_URL is unset and
// nothing answers at nats://127.0.0.1:4222), puts the example destination and journeys,
// publishes a few demo events, and keeps running until Ctrl-C. With CAIRN_DEMO_EXIT=1 it exits 0
// once the three expected deliveries arrived (1 after 60 s otherwise): that is how CI runs it.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CAIRN = join(ROOT, 'bin/cairn.js');
const SINK_PORT = 8099;
const EXPECTED = ['Form Submitted', 'Thanks For Your Order', 'Cart Abandoned'];
const EXIT_WHEN_DONE = process.env.CAIRN_DEMO_EXIT === '1';
const DEADLINE_MS = 60_000;

const say = (line) => process.stdout.write(`demo: ${line}\n`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

// 1. The webhook sink. A delivery's name: the Segment event, or (for a custom payload) its step.
const seen = new Set();
const sink = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    let payload = {};
    try {
      payload = JSON.parse(body);
    } catch {
      // Printed as it is below.
    }
    const step = payload._cairn?.step_key?.stepId ?? payload.properties?.journey_metadata?.step_id;
    const name = payload.event ?? (step === 'nudge' ? 'Cart Abandoned' : `step ${step ?? '?'}`);
    const user = payload.userId ?? payload.anonymousId ?? payload.email ?? '?';
    say(`[${elapsed()}] delivery "${name}" user=${user} id=${req.headers['webhook-id'] ?? '?'}`);
    seen.add(name);
    res.writeHead(200).end();
    if (EXIT_WHEN_DONE && EXPECTED.every((e) => seen.has(e))) void finish(0, 'all three deliveries arrived');
  });
});
await new Promise((resolve, reject) => {
  sink.once('error', (err) =>
    reject(new Error(`cannot listen on 127.0.0.1:${SINK_PORT} (${err.message}); stop whatever uses it`)),
  );
  sink.listen(SINK_PORT, '127.0.0.1', resolve);
}).catch((err) => {
  process.stderr.write(`demo: ${err.message}\n`);
  process.exit(1);
});
say(`webhook sink listening on http://127.0.0.1:${SINK_PORT}/hooks/demo`);

// 2. cairn up. The sink is on loopback, which Cairn's egress guard refuses unless allowed.
const env = { CAIRN_EGRESS_ALLOW_LOOPBACK: 'true', CAIRN_LOG_LEVEL: 'warn', ...process.env };
// Its own process group: Ctrl-C reaches the demo only, which forwards one SIGTERM (a second
// signal would make cairn up exit without draining).
const up = spawn(process.execPath, [CAIRN, 'up'], {
  cwd: ROOT,
  env,
  stdio: ['ignore', 'inherit', 'pipe'],
  detached: true,
});
process.once('exit', () => {
  if (up.exitCode === null) up.kill('SIGTERM');
});
let natsUrl;
const ready = new Promise((resolve, reject) => {
  let buffer = '';
  up.stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    buffer += chunk.toString();
    const m = /cairn up: ready \(NATS (\S+),/.exec(buffer);
    if (m) resolve(m[1]);
  });
  up.once('exit', (code) => reject(new Error(`cairn up exited with ${code} before it was ready`)));
});

let finishing = false;
async function finish(code, why) {
  if (finishing) return;
  finishing = true;
  if (why) say(why);
  if (up.exitCode === null) {
    const exited = new Promise((resolve) => up.once('exit', resolve));
    up.kill('SIGTERM');
    await exited;
  }
  sink.close();
  process.exit(code);
}
process.on('SIGINT', () => void finish(0, 'stopping'));
process.on('SIGTERM', () => void finish(0, 'stopping'));

try {
  natsUrl = await ready;
} catch (err) {
  process.stderr.write(`demo: ${err.message}\n`);
  await finish(1);
}

// 3. The example destination and journeys, through the CLI as a newcomer would.
function cairn(...args) {
  const r = spawnSync(process.execPath, [CAIRN, ...args, '--nats-url', natsUrl], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`cairn ${args.join(' ')} failed`);
}
const yamls = (dir) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));
try {
  cairn('destination', 'put', ...yamls('examples/destinations'));
  for (const file of yamls('examples/journeys')) cairn('journey', 'publish', file);
} catch (err) {
  process.stderr.write(`demo: ${err.message}\n`);
  await finish(1);
}

// 4. Demo events, straight onto the bus (what producers or the HTTP API would publish).
const nc = await connect({ servers: natsUrl, name: 'cairn-demo' });
const js = jetstream(nc);
const run = randomUUID().slice(0, 8);
const user = `ada-${run}`;
const publish = (subject, event) =>
  js.publish(subject, JSON.stringify({ messageId: randomUUID(), userId: user, ...event }));
await publish('events.identify', { type: 'identify', traits: { email: 'ada@example.com', name: 'Ada' } });
await publish('events.track', { type: 'track', event: 'form_submitted', properties: { form: 'contact' } });
const cart = (id, total) => ({ cart_id: `${id}-${run}`, currency: 'USD', total });
await publish('events.track', { type: 'track', event: 'checkout_started', properties: cart('cart-a', 42) });
await publish('events.track', { type: 'track', event: 'checkout_started', properties: cart('cart-b', 17) });
await publish('events.track', { type: 'track', event: 'purchase_completed', properties: cart('cart-b', 17) });
await nc.close();

say(`published 5 events for user ${user}: an identify (email), a form_submitted,`);
say('  checkout_started for two carts, and purchase_completed for the second one.');
say('expect, at the sink above:');
say('  - "Form Submitted" at once            (journey form-forwarding)');
say('  - "Thanks For Your Order" at once     (cart-abandonment, cart-b was purchased)');
say(
  '  - "Cart Abandoned" after about 5 s    (cart-abandonment, cart-a timed out; custom payload with the email)',
);
say(`inspect the user: node bin/cairn.js inspect user ${user} --nats-url ${natsUrl}`);
if (EXIT_WHEN_DONE) {
  setTimeout(() => {
    const missing = EXPECTED.filter((e) => !seen.has(e));
    void finish(1, `timed out after ${DEADLINE_MS / 1000}s; missing: ${missing.join(', ')}`);
  }, DEADLINE_MS).unref();
} else {
  say('running until Ctrl-C');
}

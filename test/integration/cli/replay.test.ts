// `cairn replay` against a real nats-server: the live pipeline runs a journey with a hold, a
// timeout and sends over real published events (an alias among them) to a real webhook sink;
// replaying the EVENTS window must predict exactly the deliveries the sink received, ids and
// payloads. Then the same window with --compare, --users and --until, and bad input.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { runCli } from '../../../services/cli/cli.js';
import { REPLAY_BANNER } from '../../../services/cli/replay.js';
import { waitUntil } from '../../helpers/bus.js';
import {
  deliveryIdOf,
  journey,
  publishEvents,
  publishJourneys,
  startPipeline,
  type ProducerEvent,
} from '../../helpers/pipeline.js';
import { captureIo } from './helpers.js';

const CART = `
id: cart
name: Cart abandonment
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 3s, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Cart Abandoned
    payload: { email: profile.traits.email, cart_id: entry.properties.cart_id }
    next: end
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

// The draft differs in one branch: a purchase ends the journey (and its thanks step is gone).
const DRAFT = CART.replace('next: thanks }', 'next: end }').replace(
  '  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }\n',
  '',
);

interface Send {
  deliveryId: string;
  destination: string;
  payload: Record<string, unknown>;
}

void t.test('replay predicts exactly the live deliveries; compare, users, until, bad input', async (t) => {
  const { bus, sink, server } = await startPipeline(t);
  await publishJourneys(bus, journey(CART));
  const env = { NATS_URL: server.url };

  const first: ProducerEvent[] = [];
  for (const userId of ['u1', 'u2', 'u3']) {
    first.push([
      'identify',
      { userId, messageId: `${userId}-id`, traits: { email: `${userId}@example.com` } },
    ]);
    for (const cart of ['c1', 'c2']) {
      first.push([
        'track',
        { userId, messageId: `${userId}-${cart}`, event: 'checkout_started', properties: { cart_id: cart } },
      ]);
    }
    first.push([
      'track',
      { userId, messageId: `${userId}-p1`, event: 'purchase_completed', properties: { cart_id: 'c1' } },
    ]);
  }
  await publishEvents(bus, first);
  const midway = Date.now();
  // An anonymous visitor aliased to u7: their later checkout is routed to u7.
  const second: ProducerEvent[] = [
    ['identify' as const, { userId: 'u7', messageId: 'u7-id', traits: { email: 'u7@example.com' } }],
  ];
  await publishEvents(bus, second);
  await bus.js.publish(
    'events.alias',
    JSON.stringify({ type: 'alias', userId: 'u7', previousId: 'anon-7', messageId: 'a7' }),
  );
  await bus.js.publish(
    'events.track',
    JSON.stringify({
      type: 'track',
      anonymousId: 'anon-7',
      event: 'checkout_started',
      messageId: 'anon-7-c3',
      properties: { cart_id: 'c3' },
    }),
  );

  // Live: a thanks and a nudge for each of u1..u3, a nudge for u7 (its alias).
  const arrived = await sink.waitFor(7, 60_000);
  const live = arrived.map((r) => ({
    deliveryId: deliveryIdOf(r),
    payload: r.body as Record<string, unknown>,
  }));
  t.equal(
    live.filter((d) => d.payload['email'] === 'u7@example.com').length,
    1,
    'the aliased checkout reached u7',
  );

  const dir = mkdtempSync(join(tmpdir(), 'cairn-replay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const outFile = join(dir, 'sends.ndjson');

  await t.test('the would-be sends are the live deliveries, ids and payloads', async (t) => {
    const io = captureIo(env);
    t.equal(await runCli(['replay', 'cart', '--since', '1h', '--out', outFile], io), 0, io.text());
    t.equal(io.stdout[0], REPLAY_BANNER, 'the first line says it is a dry run');
    const sends = readFileSync(outFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Send);
    const byId = (a: { deliveryId: string }, b: { deliveryId: string }) =>
      a.deliveryId.localeCompare(b.deliveryId);
    t.same(
      sends.map((s) => ({ deliveryId: s.deliveryId, payload: s.payload })).sort(byId),
      [...live].sort(byId),
      'the same delivery ids with the same payloads',
    );
    t.ok(sends.every((s) => s.destination === 'sink'));
    const text = io.stdout.join('\n');
    t.match(text, /^cart v1 · 20\d\d-\S+Z to 20\d\d-\S+Z$/m, 'the window counted');
    t.match(text, /^entered 7 · refused 0 · active 0 · completed 7 \(100\.0%\)/m);
    t.match(text, /^wait {2}hold_until {2}7 entered \(100\.0%\) · 0 waiting now$/m, 'seven carts waited');
    t.match(text, /^├─ purchased {2}3 \(42\.9%\)$/m);
    t.match(text, /^└─ timeout {2}4 \(57\.1%\)$/m);
    t.match(text, /nudge {2}send {2}4 entered \(57\.1%\) · sink: 4 sent$/m, 'four nudges');
    t.match(text, /would-be sends: 7/);
  });

  await t.test('--compare: the draft beside the active version, and who differs', async (t) => {
    const draft = join(dir, 'cart-draft.yaml');
    writeFileSync(draft, DRAFT);
    const io = captureIo(env);
    t.equal(await runCli(['replay', draft, '--compare', 'cart', '--since', '1h'], io), 0, io.text());
    const text = io.stdout.join('\n');
    t.match(text, /cart v2 \(draft\) vs cart v1/);
    t.match(text, /^thanks \(send\)\s+·\s+3 \(42\.9%\)\s+\*$/m, 'thanks: not in the draft, three live');
    t.match(text, /^ {2}purchased\s+3 \(42\.9%\)\s+3 \(42\.9%\)$/m, 'the same purchases');
    t.match(text, /^nudge \(send\)\s+4 \(57\.1%\)\s+4 \(57\.1%\)$/m, 'the same nudges');
    t.match(text, /users whose outcome differs: 3\n/);
    for (const u of ['u1', 'u2', 'u3']) t.match(text, new RegExp(`^  ${u}$`, 'm'), `${u} is listed`);
    t.notMatch(text, /^ {2}u7$/m, 'u7 (no purchase) is not');
    t.match(text, /cart v1 {2}sent {2}step=thanks destination=sink {2}key=c1/, 'with its journal lines');
  });

  await t.test('--users keeps those users only', async (t) => {
    const io = captureIo(env);
    const out = join(dir, 'u1.ndjson');
    t.equal(
      await runCli(['replay', 'cart', '--since', '1h', '--users', 'u1', '--out', out], io),
      0,
      io.text(),
    );
    const sends = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Send);
    t.same(
      sends.map((s) => s.deliveryId).sort(),
      // u1's live deliveries: the thanks names the user, the nudge carries the email.
      live
        .filter((d) => d.payload['userId'] === 'u1' || d.payload['email'] === 'u1@example.com')
        .map((d) => d.deliveryId)
        .sort(),
      "exactly u1's live deliveries",
    );
    t.equal(sends.length, 2, 'u1: a thanks and a nudge');
    t.match(io.stdout.join('\n'), /of other users/);
  });

  await t.test('--until: later events are not seen, later deadlines stay pending', async (t) => {
    const io = captureIo(env);
    const out = join(dir, 'until.ndjson');
    const until = new Date(midway).toISOString();
    t.equal(
      await runCli(['replay', 'cart', '--since', '1h', '--until', until, '--out', out], io),
      0,
      io.text(),
    );
    const text = io.stdout.join('\n');
    t.match(text, new RegExp(`events: ${first.length} read`), 'only the events before --until');
    const sends = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Send);
    t.equal(sends.filter((s) => s.payload['event'] === 'Thanks').length, 3, 'the thanks, before the cut');
    t.equal(
      sends.filter((s) => s.payload['email'] !== undefined).length,
      0,
      'no nudge: the deadlines are after it',
    );
    t.match(text, /^wait {2}hold_until {2}6 entered \(100\.0%\) · 3 waiting now$/m);
    t.match(text, /· active 3 ·/, 'the carts still waiting are active');
  });

  await t.test('bad input is refused with what to do', async (t) => {
    let io = captureIo(env);
    t.equal(await runCli(['replay', 'nope', '--since', '1h'], io), 1);
    t.match(
      io.stderr.join('\n'),
      /cairn: nope is neither a journey file nor a stored journey\. Give a journey file/,
    );
    io = captureIo(env);
    t.equal(await runCli(['replay', 'cart', '--since', '7x'], io), 1);
    t.match(io.stderr.join('\n'), /cairn: --since "7x" is not a duration\. Write e\.g\. --since 7d/);
    io = captureIo(env);
    t.equal(await runCli(['replay', 'cart'], io), 1);
    t.match(io.stderr.join('\n'), /missing --since/);
    io = captureIo(env);
    t.equal(await runCli(['replay', 'cart', '--since', '1h', '--until', 'yesterday'], io), 1);
    t.match(io.stderr.join('\n'), /--until "yesterday" is neither an ISO time nor a duration/);
    io = captureIo(env);
    t.equal(await runCli(['replay', 'cart', '--compare', 'cart', '--since', '1h'], io), 1);
    t.match(io.stderr.join('\n'), /--compare needs a draft file/);
  });

  // Nothing was sent by the replays.
  await waitUntil(() => sink.requests.length === 7, 1_000, 'the sink unchanged');
  t.equal(sink.requests.length, 7, 'the replays sent nothing');
});

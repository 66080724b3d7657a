// Two ingest shards (CAIRN_INGEST_SHARDS=2), each its own OS process, with the matcher, the timer
// and the sender, against a real webhook sink; the simulator, fed each event under the user it
// must reach, is the oracle. One shard is frozen (SIGSTOP) while the other runs ahead, and one is
// SIGKILLed and started again in the middle: per-user order holds across an alias, every shard
// resolves every event to the same user (events before an alias stay with the anonymous id even
// when the alias record is already written), and a hold never times out while an event received
// before its deadline is still unrouted on the frozen shard (DESIGN.md §5.2, §5.5).
import t, { type Test } from 'tap';

import {
  parseDestinationFile,
  partitionOf,
  putDestination,
  STREAMS,
  type Bus,
} from '../../libs/bus/index.js';
import { compile, makeEvent, simulate, type JourneyDocument } from '../../libs/journey/index.js';
import { ingestDurable } from '../../services/ingest/index.js';
import { waitUntil, withBus } from '../helpers/bus.js';
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js';
import { deliveryIdOf, journey, publishJourneys } from '../helpers/pipeline.js';
import { spawnService, type ServiceProcess } from './processes.js';

const PARTITIONS = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const cartJourney = (holdS: number): string => `
id: cart
name: Cart abandonment
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: ${holdS}s, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Cart Abandoned
    payload: { cart_id: entry.properties.cart_id, user: entry.userId }
    next: end
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

const VIEWS = `
id: views
name: Forward views
trigger: { event: viewed }
entry: { mode: every_time, uniqueBy: properties.n }
steps:
  - { id: crm, type: send, to: [sink], event: Viewed }
`;

/** An event as a producer writes it, and the user ingest must route it to (the oracle's). */
interface Sent {
  type: 'track' | 'alias';
  body: Record<string, unknown>;
  /** The canonical user; undefined for an alias (no journey reacts to it). */
  routedTo?: string;
}

async function publish(bus: Bus, events: Sent[]): Promise<number> {
  let at = 0;
  for (const e of events) {
    await bus.js.publish(`events.${e.type}`, JSON.stringify({ type: e.type, ...e.body }));
    at = Date.now();
  }
  return at;
}

/** The delivery ids the simulator predicts, each event at `offsets` ms (default 1 ms apart). */
function predicted(docs: JourneyDocument[], events: Sent[], offsets?: Map<Sent, number>): string[] {
  const start = Date.UTC(2026, 0, 1);
  const inputs = events
    .filter((e) => e.routedTo !== undefined)
    .map((e, i) =>
      makeEvent({
        type: 'track',
        name: String(e.body['event']),
        userId: e.routedTo!,
        messageId: String(e.body['messageId']),
        properties: (e.body['properties'] as Record<string, unknown>) ?? {},
        at: start + (offsets?.get(e) ?? i),
      }),
    )
    .sort((a, b) => a.receivedAt - b.receivedAt);
  const timeline = simulate(
    docs.map((d) => compile(d, { version: 1 })),
    inputs,
  );
  return timeline.sends.map((s) => s.deliveryId).sort();
}

interface Shards {
  bus: Bus;
  sink: HttpSink;
  shard: ServiceProcess[];
  startShard: (s: number) => Promise<void>;
}

/** `dedupeWindow`: the streams' duplicate window (a shard lagging more than it gets no help from
 * JetStream dropping a wrong second copy of an event). */
async function startShards(t: Test, dedupeWindow = '2m', ackWait = '3s'): Promise<Shards> {
  const { bus, server } = await withBus(t, {
    CAIRN_PARTITIONS: String(PARTITIONS),
    CAIRN_DEDUPE_WINDOW: dedupeWindow,
  });
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const env = {
    NATS_URL: server.url,
    CAIRN_PARTITIONS: String(PARTITIONS),
    CAIRN_INGEST_SHARDS: '2',
    CAIRN_DEDUPE_WINDOW: dedupeWindow,
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_ACK_WAIT: ackWait,
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
  };
  const running: ServiceProcess[] = [];
  t.teardown(async () => {
    for (const p of running) await p.kill();
  });
  const spawn = async (
    name: 'ingest' | 'matcher' | 'timer' | 'sender',
    extra = {},
  ): Promise<ServiceProcess> => {
    const p = spawnService(name, { ...env, ...extra });
    running.push(p);
    await p.ready;
    return p;
  };
  for (const name of ['matcher', 'timer', 'sender'] as const) await spawn(name);
  const shard: ServiceProcess[] = [];
  const startShard = async (s: number): Promise<void> => {
    shard[s] = await spawn('ingest', { CAIRN_INGEST_SHARD: String(s) });
  };
  await startShard(0);
  await startShard(1);
  await putDestination(bus, parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook` }));
  return { bus, sink, shard, startShard };
}

/** Both shards have every stored event delivered and acknowledged. */
async function bothIdle(bus: Bus): Promise<boolean> {
  for (const s of [0, 1]) {
    const info = await bus.jsm.consumers.info(STREAMS.EVENTS, ingestDurable(s));
    if (info.num_pending !== 0 || info.num_ack_pending !== 0) return false;
  }
  return true;
}

function compare(t: Test, sink: HttpSink, expected: string[], what: string): void {
  const got = new Set(sink.requests.map(deliveryIdOf));
  t.same([...got].sort(), expected, what, {
    missing: expected.filter((id) => !got.has(id)),
    extra: [...got].filter((id) => !expected.includes(id)),
  });
}

void t.test('two shards: per-user order across an alias, one shard frozen, one restarted', async (t) => {
  const { bus, sink, shard, startShard } = await startShards(t, '1s');
  const cart = journey(cartJourney(12));
  const views = journey(VIEWS);
  await publishJourneys(bus, cart, views);

  const USERS = 120;
  // (The suffix varies the anonymous id's partition against the user's.)
  const users = Array.from({ length: USERS }, (_, i) => ({
    anon: `anon-${i}-${i % 5}`,
    user: `user-${i}`,
    i,
  }));
  // Both shards must own some anonymous ids and some users.
  const owners = new Set(
    users.map((u) => `${partitionOf(u.anon, PARTITIONS) % 2}${partitionOf(u.user, PARTITIONS) % 2}`),
  );
  t.equal(owners.size, 4, 'anonymous ids and users on both shards, in every combination');

  // Interleaved across users, in order per user: two views as the anonymous id (they stay its
  // own), the alias, the checkout as the user, and for two users in three the purchase as the
  // anonymous id again (it must reach the user, after the checkout).
  const views1 = users.map(({ anon, i }): Sent => ({
    type: 'track',
    body: { anonymousId: anon, event: 'viewed', messageId: `${i}-v1`, properties: { n: 1 } },
    routedTo: anon,
  }));
  const views2 = users.map(({ anon, i }): Sent => ({
    type: 'track',
    body: { anonymousId: anon, event: 'viewed', messageId: `${i}-v2`, properties: { n: 2 } },
    routedTo: anon,
  }));
  const aliases = users.map(({ anon, user, i }): Sent => ({
    type: 'alias',
    body: { userId: user, previousId: anon, messageId: `${i}-alias` },
  }));
  const checkouts = users.map(({ user, i }): Sent => ({
    type: 'track',
    body: { userId: user, event: 'checkout_started', messageId: `${i}-c`, properties: { cart_id: 'c' } },
    routedTo: user,
  }));
  const purchases = users
    .filter(({ i }) => i % 3 !== 2)
    .map(({ anon, user, i }): Sent => ({
      type: 'track',
      body: {
        anonymousId: anon,
        event: 'purchase_completed',
        messageId: `${i}-p`,
        properties: { cart_id: 'c' },
      },
      routedTo: user,
    }));
  const all = [...views1, ...views2, ...aliases, ...checkouts, ...purchases];
  const expected = predicted([cart, views], all);
  t.equal(expected.length, USERS * 3, 'two views and a thanks or a nudge per user');

  // A body that is no event: dead-lettered once (by shard 0), acked by shard 1.
  await bus.js.publish('events.track', 'not json');

  // 1. Shard 1 frozen: shard 0 routes its part and writes the alias links of its anonymous ids,
  //    so that shard 1 later reads, for the views before them, records already written (longer
  //    than the duplicate window: a view shard 1 resolved to the user would reach the matcher).
  shard[1]!.pause();
  await publish(bus, [...views1, ...views2, ...aliases]);
  await sleep(2_500);
  shard[1]!.resume();
  // 2. The checkouts; shard 1 dies in the middle of them and starts again from its ack floor.
  await publish(bus, checkouts.slice(0, USERS / 2));
  await sleep(200);
  await shard[1]!.kill();
  await publish(bus, checkouts.slice(USERS / 2));
  await startShard(1);
  // 3. Shard 0 frozen while the purchases arrive: shard 1 runs ahead.
  shard[0]!.pause();
  await publish(bus, purchases);
  await sleep(1_500);
  shard[0]!.resume();

  await sink.waitFor((rs) => new Set(rs.map(deliveryIdOf)).size >= expected.length, 60_000);
  await waitUntil(() => bothIdle(bus), 20_000, 'both shards idle');
  await sleep(1_000); // anything extra would arrive now
  compare(
    t,
    sink,
    expected,
    'exactly the predicted deliveries: views as the anonymous id, thanks or nudge as the user',
  );
  t.equal((await bus.jsm.streams.info(STREAMS.DLQ)).state.messages, 1, 'one DLQ record for the refused body');
  const thanks = sink.requests.filter((r) => (r.body as { event?: string }).event === 'Thanks');
  t.equal(new Set(thanks.map(deliveryIdOf)).size, purchases.length, 'every purchase as the anonymous id won');
});

void t.test('a hold waits for an event received before its deadline on a frozen shard', async (t) => {
  // A long ack wait: nothing the frozen shard holds comes back through a redelivery meanwhile.
  const { bus, sink, shard } = await startShards(t, '2m', '20s');
  const HOLD_S = 4;
  const cart = journey(cartJourney(HOLD_S));
  await publishJourneys(bus, cart);

  const USERS = 60;
  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  const onShard = (u: string): number => partitionOf(u, PARTITIONS) % 2;
  t.ok(users.some((u) => onShard(u) === 0) && users.some((u) => onShard(u) === 1), 'users on both shards');
  const checkouts = users.map((userId): Sent => ({
    type: 'track',
    body: { userId, event: 'checkout_started', messageId: `${userId}-c`, properties: { cart_id: 'c' } },
    routedTo: userId,
  }));
  // Every other user buys before the deadline, while shard 1 is frozen.
  const purchases = users
    .filter((_, i) => i % 2 === 0)
    .map((userId): Sent => ({
      type: 'track',
      body: { userId, event: 'purchase_completed', messageId: `${userId}-p`, properties: { cart_id: 'c' } },
      routedTo: userId,
    }));

  const startedAt = Date.now();
  await publish(bus, checkouts);
  const checkedOutAt = Date.now();
  await waitUntil(() => bothIdle(bus), 10_000, 'the checkouts are routed');
  shard[1]!.pause();
  await sleep(Math.max(0, startedAt + 1_500 - Date.now()));
  const purchasedAt = await publish(bus, purchases);
  t.ok(purchasedAt < startedAt + HOLD_S * 1_000 - 1_000, 'the purchases arrived well before the deadlines');

  // Past every deadline, shard 1 still frozen, while other events keep arriving (they move the
  // other shard's watermark past the deadlines): no hold of a buyer has timed out.
  for (let n = 0; Date.now() < checkedOutAt + (HOLD_S + 3) * 1_000; n++) {
    await publish(bus, [
      { type: 'track', body: { userId: `visitor-${n}`, event: 'page_viewed', messageId: `visit-${n}` } },
    ]);
    await sleep(100);
  }
  const frozenAt = sink.requests.map((r) => r.body as { user?: string });
  const resumedAt = Date.now();
  shard[1]!.resume();

  const offsets = new Map<Sent, number>();
  checkouts.forEach((e, i) => offsets.set(e, i));
  purchases.forEach((e, i) => offsets.set(e, purchasedAt - startedAt + i));
  const expected = predicted([cart], [...checkouts, ...purchases], offsets);
  t.equal(expected.length, USERS, 'a thanks or a nudge per user');
  await sink.waitFor((rs) => new Set(rs.map(deliveryIdOf)).size >= expected.length, 30_000);
  await sleep(1_000);
  compare(t, sink, expected, 'exactly the predicted deliveries: every buyer thanked, no buyer nudged');
  t.ok(
    frozenAt.every((b) => b.user === undefined || onShard(b.user) === 0),
    'while shard 1 was frozen, no hold of its partitions timed out (its watermark held them)',
  );

  const nudges = sink.requests.filter((r) => (r.body as { cart_id?: string }).cart_id !== undefined);
  const nudgeUser = (r: (typeof sink.requests)[number]): string => String((r.body as { user?: string }).user);
  t.ok(
    nudges.filter((r) => onShard(nudgeUser(r)) === 1).every((r) => r.at >= resumedAt),
    "no hold on the frozen shard's partitions timed out before it came back",
  );
  t.ok(
    nudges.some((r) => onShard(nudgeUser(r)) === 0 && r.at < resumedAt),
    "the other shard's partitions went on meanwhile",
  );
});

// Scale-out: every stage as two processes against one nats-server — two ingest shards
// (CAIRN_INGEST_SHARDS=2), two matchers, two timers and two senders (CAIRN_INSTANCES=2, their
// partitions fenced by leases) — and a real webhook sink. 10,000 users (CAIRN_SCALE_USERS) go
// through cart abandonment and a forwarding journey; every event is stored in EVENTS as a backlog
// before ingest and the matchers start, so by the time a hold is started its deadline has long
// passed in wall-clock time while its user's purchase may still be unrouted. The simulator, fed
// the same events at the receive times EVENTS stamped on them, is the oracle: the sink must get
// exactly its delivery ids, none twice, and each user's deliveries in its order (DESIGN.md §5.2,
// §5.3, §5.5). `make test-scale` runs it at 10,000 users; `make test` at CAIRN_SCALE_USERS=300.
import t, { type Test } from 'tap';

import { parseDestinationFile, putDestination, STREAMS, type Bus } from '../../libs/bus/index.js';
import { compile, makeEvent, simulate, type NormalizedEvent } from '../../libs/journey/index.js';
import { ingestDurable } from '../../services/ingest/index.js';
import { waitUntil, withBus } from '../helpers/bus.js';
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js';
import { deliveryIdOf, journey, publishJourneys } from '../helpers/pipeline.js';
import { spawnService, type ServiceName, type ServiceProcess } from './processes.js';

const USERS = Number(process.env['CAIRN_SCALE_USERS'] ?? 10_000);
const PARTITIONS = 8;
const HOLD_S = 4;
/** Users whose events are interleaved in one stretch of the backlog. */
const CHUNK = 250;
/** The whole test's budget: process starts, the backlog and the drain on a loaded 2-core host. */
const TIMEOUT_MS = Math.max(600_000, USERS * 150);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CART = `
id: cart
name: Cart abandonment
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: modified, event: cart_modified, restart: true }
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: ${HOLD_S}s, next: nudge }
  - { id: nudge, type: send, to: [sink], event: Cart Abandoned, next: end }
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

interface Planned {
  userId: string;
  event: string;
  messageId: string;
  properties: Record<string, unknown>;
}

/**
 * Per user, in this order: a view (one user in four), the checkout, a cart change that restarts
 * the hold (one in two), a second view (the same users as the first), the purchase (two in three:
 * the others abandon). Users are interleaved in stretches of CHUNK, each user's events in order.
 */
function plan(users: number): Planned[] {
  const out: Planned[] = [];
  const ev = (i: number, event: string, tag: string, properties: Record<string, unknown>): Planned => ({
    userId: `user-${i}`,
    event,
    messageId: `u${i}-${tag}`,
    properties,
  });
  for (let from = 0; from < users; from += CHUNK) {
    const chunk = Array.from({ length: Math.min(CHUNK, users - from) }, (_, k) => from + k);
    for (const i of chunk) {
      if (i % 4 === 1) out.push(ev(i, 'viewed', 'v1', { n: 1 }));
      out.push(ev(i, 'checkout_started', 'c', { cart_id: `c${i}` }));
    }
    for (const i of chunk) if (i % 2 === 0) out.push(ev(i, 'cart_modified', 'm', { cart_id: `c${i}` }));
    for (const i of chunk) if (i % 4 === 1) out.push(ev(i, 'viewed', 'v2', { n: 2 }));
    for (const i of chunk) {
      if (i % 3 !== 2) out.push(ev(i, 'purchase_completed', 'p', { cart_id: `c${i}` }));
    }
  }
  return out;
}

async function publishBacklog(bus: Bus, events: Planned[], window = 512): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  for (const e of events) {
    const p = bus.js.publish('events.track', JSON.stringify({ type: 'track', ...e }));
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    if (pending.size >= window) await Promise.race(pending);
  }
  await Promise.all(pending);
}

/** Every event as EVENTS holds it, in stream order, at the receive time the server stamped. */
async function storedEvents(bus: Bus, count: number): Promise<NormalizedEvent[]> {
  const out: NormalizedEvent[] = [];
  const consumer = await bus.js.consumers.get(STREAMS.EVENTS);
  const messages = await consumer.consume();
  for await (const m of messages) {
    const e = m.json<Planned>();
    out.push(
      makeEvent({
        name: e.event,
        userId: e.userId,
        messageId: e.messageId,
        properties: e.properties,
        at: Math.floor(m.info.timestampNanos / 1e6),
      }),
    );
    if (out.length === count) break;
  }
  await messages.close();
  return out;
}

interface Stage {
  name: ServiceName;
  env: Record<string, string>;
}

function stage(name: ServiceName, index: number): Stage {
  return name === 'ingest'
    ? { name, env: { CAIRN_INGEST_SHARD: String(index) } }
    : { name, env: { CAIRN_INSTANCES: '2', CAIRN_ORDINAL: String(index) } };
}

async function start(t: Test, running: ServiceProcess[], base: Record<string, string>, s: Stage) {
  const p = spawnService(s.name, { ...base, ...s.env }, { readyTimeoutMs: 300_000 });
  running.push(p);
  await p.ready.catch((err: unknown) => t.fail(`${s.name} ${JSON.stringify(s.env)} did not start`, { err }));
  return p;
}

/** Unique delivery ids at the sink (polled: with 15,000 requests a per-request check is quadratic). */
async function waitForDeliveries(sink: HttpSink, n: number, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      await sleep(500);
      return new Set(sink.requests.map(deliveryIdOf)).size >= n;
    },
    timeoutMs,
    `${n} deliveries at the sink`,
  );
}

async function idle(bus: Bus): Promise<boolean> {
  for (const s of [0, 1]) {
    const info = await bus.jsm.consumers.info(STREAMS.EVENTS, ingestDurable(s));
    if (info.num_pending !== 0 || info.num_ack_pending !== 0) return false;
  }
  for (const stream of [STREAMS.MATCH, STREAMS.DELIVER]) {
    if ((await bus.jsm.streams.info(stream)).state.messages !== 0) return false;
  }
  return true;
}

t.setTimeout(TIMEOUT_MS);

void t.test(
  `${USERS} users, two processes of every stage, a backlog: the simulator's deliveries`,
  async (t) => {
    t.setTimeout(TIMEOUT_MS);
    const started = Date.now();
    const { bus, server } = await withBus(t, { CAIRN_PARTITIONS: String(PARTITIONS) });
    const sink = await startHttpSink();
    t.teardown(() => sink.close());
    // A cap as large as a sender's own concurrency (64 jobs in hand): no job is ever deferred for a
    // slot, so each user's jobs are attempted in the order DELIVER holds them, the order the matcher
    // decided them in (docs/destinations.md, Order; a deferral past 5 s or past the delivery budget
    // re-publishes a job behind the user's later ones, which a backlogged run would otherwise hit).
    await putDestination(
      bus,
      parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook`, concurrency: 64 }),
    );
    const cart = journey(CART);
    const views = journey(VIEWS);
    await publishJourneys(bus, cart, views);

    const base = {
      NATS_URL: server.url,
      CAIRN_PARTITIONS: String(PARTITIONS),
      CAIRN_INGEST_SHARDS: '2',
      CAIRN_TIMER_BUCKET: '1s',
      CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
      CAIRN_METRICS_PORT: '0',
      CAIRN_HTTP_PORT: '0',
    };
    const running: ServiceProcess[] = [];
    t.teardown(async () => {
      for (const p of running) await p.kill();
    });

    // The timers and the senders first: nothing reaches them until ingest and the matchers run.
    for (const name of ['timer', 'sender'] as const) {
      await Promise.all([0, 1].map((i) => start(t, running, base, stage(name, i))));
    }

    const planned = plan(USERS);
    await publishBacklog(bus, planned);
    const stored = await storedEvents(bus, planned.length);
    t.same(
      stored.map((e) => e.messageId),
      planned.map((e) => e.messageId),
      'EVENTS holds the backlog in the order it was published',
    );

    const timeline = simulate([compile(cart, { version: 1 }), compile(views, { version: 1 })], stored);
    const buyers = Array.from({ length: USERS }, (_, i) => i).filter((i) => i % 3 !== 2).length;
    const viewers = Array.from({ length: USERS }, (_, i) => i).filter((i) => i % 4 === 1).length;
    const sends = (event: string): number =>
      timeline.sends.filter((s) => s.payload['event'] === event).length;
    t.equal(sends('Thanks'), buyers, 'the simulator thanks every buyer (each bought before the deadline)');
    t.equal(sends('Cart Abandoned'), USERS - buyers, 'and nudges every other user');
    t.equal(sends('Viewed'), 2 * viewers, 'two views forwarded per viewer');
    const expected = timeline.sends.map((s) => s.deliveryId);

    // The backlog is older than a hold: ingest and the matchers start once every checkout's deadline
    // has passed, so each purchase races its hold's timeout, which must wait for it (guarantee 5).
    const lastCheckout = stored.filter((e) => e.name === 'checkout_started').at(-1)!;
    await sleep(Math.max(0, lastCheckout.receivedAt + HOLD_S * 1_000 + 500 - Date.now()));
    const ingestStart = Date.now();
    // One of each first, the twins a little later: for a while one shard's partitions lag the other's.
    await Promise.all([
      start(t, running, base, stage('ingest', 0)),
      start(t, running, base, stage('matcher', 0)),
    ]);
    await sleep(2_000);
    await Promise.all([
      start(t, running, base, stage('ingest', 1)),
      start(t, running, base, stage('matcher', 1)),
    ]);

    await waitForDeliveries(sink, expected.length, Math.max(240_000, USERS * 100));
    await waitUntil(() => idle(bus), 60_000, 'every stage idle');
    await sleep(2_000); // anything extra would arrive now
    const drainedMs = Date.now() - ingestStart;

    const got = sink.requests.map(deliveryIdOf);
    const gotSet = new Set(got);
    const expectedSet = new Set(expected);
    t.equal(got.length, gotSet.size, 'no delivery id twice');
    t.same([...gotSet].sort(), [...expected].sort(), 'exactly the predicted delivery ids', {
      missing: expected.filter((id) => !gotSet.has(id)).slice(0, 20),
      extra: got.filter((id) => !expectedSet.has(id)).slice(0, 20),
    });

    // Per user, the deliveries arrive in the simulator's order.
    const byUser = (items: { user: string; id: string }[]): Map<string, string[]> => {
      const m = new Map<string, string[]>();
      for (const { user, id } of items) m.set(user, [...(m.get(user) ?? []), id]);
      return m;
    };
    const want = byUser(timeline.sends.map((s) => ({ user: String(s.payload['userId']), id: s.deliveryId })));
    const have = byUser(
      sink.requests.map((r) => ({
        user: String((r.body as { userId?: string }).userId),
        id: deliveryIdOf(r),
      })),
    );
    const outOfOrder = [...want].filter(([user, ids]) => (have.get(user) ?? []).join() !== ids.join());
    t.same(outOfOrder.length, 0, "every user's deliveries in the simulator's order", {
      first: outOfOrder.slice(0, 5).map(([user, ids]) => ({ user, want: ids, have: have.get(user) })),
    });
    t.ok(
      [...want.values()].filter((ids) => ids.length >= 3).length === viewers,
      'the viewers have three deliveries each, so order is checked',
    );

    const dlq = (await bus.jsm.streams.info(STREAMS.DLQ)).state.messages;
    t.equal(dlq, 0, 'nothing dead-lettered');
    t.comment(
      `${USERS} users, ${planned.length} events, ${expected.length} deliveries: drained ${Math.round(drainedMs / 1_000)} s after ingest started; test ${Math.round((Date.now() - started) / 1_000)} s`,
    );
    if (t.passing()) return;
    for (const p of running) t.comment(`${p.name}:\n${p.output().slice(-2_000)}`);
  },
);

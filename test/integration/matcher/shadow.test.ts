// Shadow versions on live traffic, through the whole pipeline (real nats-server, real local
// webhook sink): a shadow decides beside the active version on every event, with its own
// instances and timers, and journals `would_send` with the payload instead of delivering.
import t from 'tap';

import {
  archiveShadow,
  BUCKETS,
  encodeKey,
  instanceCodec,
  JournalMessage,
  promoteShadow,
  publishShadowVersion,
  readJourneyHead,
  STREAMS,
  TimerMessage,
  type Bus,
} from '../../../libs/bus/index.js';
import type { Instance, JournalRecord } from '../../../libs/journey/index.js';
import { shadowKvKey } from '../../../services/matcher/shadow.js';
import { waitUntil } from '../../helpers/bus.js';
import {
  journey,
  publishEvent,
  publishJourneys,
  startPipeline,
  type RecordedRequest,
} from '../../helpers/pipeline.js';

/** A cart journey; `filter` puts a data split before the nudge: only carts of 100 or more. */
const cart = (opts: { holdS: number; filter?: boolean }): string => `
id: cart
name: Cart
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: order_completed, next: thanks }
    timeout: { after: ${opts.holdS}s, next: ${opts.filter ? 'big' : 'nudge'} }
${
  opts.filter
    ? `  - id: big
    type: data_split
    branches:
      - { id: big-cart, where: { entry.properties.total: { gte: 100 } }, next: nudge }
    else: end
`
    : ''
}  - id: nudge
    type: send
    to: [sink]
    payload: { cart: entry.properties.cart_id, total: entry.properties.total, user: journey.instanceKey }
    next: end
  - { id: thanks, type: send, to: [sink], payload: { cart: entry.properties.cart_id }, next: end }
  - { id: end, type: exit }
`;

interface Send {
  deliveryId: string;
  destination: string;
  payload: Record<string, unknown>;
}

/** A payload without the version of its step key: the shadow's is its own version number. */
function comparable(payload: Record<string, unknown>): string {
  const cairn = payload['_cairn'] as { step_key: Record<string, unknown>; delivery_id: string };
  const { version: _version, ...stepKey } = cairn.step_key;
  return JSON.stringify({ ...payload, _cairn: { ...cairn, step_key: stepKey } });
}

const key = (s: Send): string => `${s.deliveryId}|${s.destination}|${comparable(s.payload)}`;

function delivered(requests: RecordedRequest[]): Send[] {
  return requests.map((r) => ({
    deliveryId: String(r.headers['idempotency-key']),
    destination: 'sink',
    payload: r.body as Record<string, unknown>,
  }));
}

async function journal(bus: Bus): Promise<JournalRecord[]> {
  const info = await bus.jsm.streams.info(STREAMS.JOURNAL);
  const out: JournalRecord[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(STREAMS.JOURNAL, { seq }).catch(() => null);
    if (m) out.push(...JournalMessage.decode(m.data));
  }
  return out;
}

function wouldSends(records: JournalRecord[]): Send[] {
  return records
    .filter((r) => r.type === 'would_send')
    .map((r) => ({
      deliveryId: String(r.detail?.['deliveryId']),
      destination: String(r.detail?.['destination']),
      payload: r.detail?.['payload'] as Record<string, unknown>,
    }));
}

async function shadowInstance(bus: Bus, userKey: string, cartId: string): Promise<Instance | undefined> {
  const e = await (await bus.kv(BUCKETS.instances)).get(shadowKvKey('cart', userKey, cartId));
  return e?.operation === 'PUT' ? instanceCodec.decode(e.value) : undefined;
}

/** Six carts: odd users buy before the hold's deadline, even ones do not (their nudge is the
 * timeout's); totals 50, 100, 150, ... */
const USERS = [1, 2, 3, 4, 5, 6].map((i) => ({
  user: `u${i}`,
  cart: `c${i}`,
  total: 50 * i,
  buys: i % 2 === 1,
}));

async function drive(bus: Bus): Promise<void> {
  for (const u of USERS) {
    await publishEvent(bus, [
      'track',
      {
        userId: u.user,
        messageId: `${u.user}-checkout`,
        event: 'checkout_started',
        properties: { cart_id: u.cart, total: u.total },
      },
    ]);
    if (u.buys) {
      await publishEvent(bus, [
        'track',
        {
          userId: u.user,
          messageId: `${u.user}-order`,
          event: 'order_completed',
          properties: { cart_id: u.cart },
        },
      ]);
    }
  }
}

void t.test('the same document as a shadow: its would_sends are the live deliveries', async (t) => {
  const { bus, sink } = await startPipeline(t);
  await publishJourneys(bus, journey(cart({ holdS: 2 })));
  const shadow = await publishShadowVersion(bus, journey(cart({ holdS: 2 })));
  t.equal(shadow.version, 2);
  t.same((await readJourneyHead(bus, 'cart'))?.versions, { '1': 'active', '2': 'shadow' });
  await drive(bus);

  await sink.waitFor(USERS.length, 30_000);
  await waitUntil(async () => wouldSends(await journal(bus)).length >= USERS.length, 30_000, 'would_sends');
  const records = await journal(bus);
  const live = delivered(sink.requests);
  const would = wouldSends(records);
  t.equal(sink.requests.length, USERS.length, 'the shadow delivered nothing: one request per send');
  t.same(would.map(key).sort(), live.map(key).sort(), 'would_send = deliveries (id, destination, payload)');
  t.same(
    new Set(would.map((s) => (s.payload['_cairn'] as { step_key: { version: number } }).step_key.version)),
    new Set([2]),
    "the payload a shadow would send names the shadow's version",
  );

  // Every record of the shadow is marked, its version's; none of the live version's is.
  const shadowRecords = records.filter((r) => r.shadow === true);
  t.ok(shadowRecords.length > 0 && shadowRecords.every((r) => r.version === 2), 'shadow records are v2');
  t.ok(
    records.filter((r) => r.version === 1).every((r) => r.shadow === undefined && r.type !== 'would_send'),
    'live records are unmarked',
  );
  const count = (type: string, shadow: boolean): number =>
    records.filter((r) => r.type === type && (r.shadow === true) === shadow).length;
  for (const type of ['entered', 'completed', 'timer.fired'])
    t.equal(count(type, true), count(type, false), `${type}: as many in the shadow as live`);
  t.equal(count('timer.fired', true), 3, "the even users' holds timed out in the shadow too");

  // Its own instances, timers under shadow tokens, all completed.
  for (const u of USERS) {
    const i = await shadowInstance(bus, u.user, u.cart);
    t.equal(i?.status, 'completed', `${u.user}: shadow instance completed`);
    t.equal(i?.version, 2);
  }
  const timers = await bus.jsm.streams.info(STREAMS.TIMERS);
  const tokens: string[] = [];
  for (let seq = timers.state.first_seq; seq <= timers.state.last_seq && timers.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(STREAMS.TIMERS, { seq }).catch(() => null);
    if (m) tokens.push(TimerMessage.decode(m.data).token);
  }
  t.ok(
    tokens.some((k) => k.startsWith('shadow:retain:')),
    'the shadow schedules the retention of its ended instances under its own tokens',
  );
});

void t.test('a changed document: would_sends differ exactly where it does', async (t) => {
  const { bus, sink } = await startPipeline(t);
  await publishJourneys(bus, journey(cart({ holdS: 2 })));
  // The shadow nudges only carts of 100 or more. The odd users buy (thanks, in both); the even
  // ones' totals are 40, 140 and 240: only u2's nudge is not in the shadow.
  await publishShadowVersion(bus, journey(cart({ holdS: 2, filter: true })));
  for (const u of USERS) {
    const total = u.buys ? u.total : u.total - 60; // u2: 40, u4: 140, u6: 240
    await publishEvent(bus, [
      'track',
      {
        userId: u.user,
        messageId: `${u.user}-checkout`,
        event: 'checkout_started',
        properties: { cart_id: u.cart, total },
      },
    ]);
    if (u.buys) {
      await publishEvent(bus, [
        'track',
        {
          userId: u.user,
          messageId: `${u.user}-order`,
          event: 'order_completed',
          properties: { cart_id: u.cart },
        },
      ]);
    }
  }
  await sink.waitFor(USERS.length, 30_000);
  // The shadow completes every instance; u2's without a send.
  await waitUntil(
    async () => (await journal(bus)).filter((r) => r.shadow && r.type === 'completed').length >= USERS.length,
    30_000,
    'shadow instances completed',
  );
  const live = delivered(sink.requests);
  const would = wouldSends(await journal(bus));
  const u2Nudge = live.filter((s) => s.payload['cart'] === 'c2');
  t.equal(u2Nudge.length, 1, 'live nudged u2 (total 40)');
  t.same(
    would.map(key).sort(),
    live
      .filter((s) => s.payload['cart'] !== 'c2')
      .map(key)
      .sort(),
    'the shadow would send everything live sent but the nudge of the cart under 100',
  );
  t.equal(sink.requests.length, USERS.length, 'the shadow delivered nothing');
});

void t.test('a shadow that fails never changes or stops the live decision', async (t) => {
  const { bus, sink, metrics } = await startPipeline(t);
  await publishJourneys(bus, journey(cart({ holdS: 1 })));
  await publishShadowVersion(bus, journey(cart({ holdS: 1 })));
  // A value at u1's shadow key that does not decode: the shadow fails on every input of u1.
  const kv = await bus.kv(BUCKETS.instances);
  await kv.put(shadowKvKey('cart', 'u1', 'c1'), new TextEncoder().encode('not an instance'));
  await drive(bus);
  await sink.waitFor(USERS.length, 30_000);
  t.same(
    sink.requests.map((r) => (r.body as { cart: string }).cart).sort(),
    USERS.map((u) => u.cart).sort(),
    'every live delivery was made, u1 included',
  );
  await waitUntil(
    async () => wouldSends(await journal(bus)).length >= USERS.length - 1,
    30_000,
    'the other users in the shadow',
  );
  const would = wouldSends(await journal(bus));
  t.notOk(
    would.some((s) => s.payload['cart'] === 'c1'),
    'u1 has no shadow decision',
  );
  const failures = await metrics.registry.getSingleMetric('cairn_shadow_failures_total')?.get();
  const n =
    failures?.values.find((v) => v.labels['journey'] === 'cart' && v.labels['reason'] === 'error')?.value ??
    0;
  t.ok(n >= 2, `each of u1's inputs failed in the shadow only, counted (${n})`);
  // The live inputs were acked; u1's shadow inputs went to the shadow's own dead-letter subject.
  const dlq = async () =>
    (await bus.jsm.streams.info(STREAMS.DLQ, { subjects_filter: 'dlq.*' })).state.subjects ?? {};
  await waitUntil(async () => ((await dlq())['dlq.shadow'] ?? 0) >= 2, 30_000, 'dlq.shadow');
  t.same(await dlq(), { 'dlq.shadow': 2 }, "u1's two shadow inputs dead-lettered, no live input");
  const dead = await bus.jsm.streams.getMessage(STREAMS.DLQ, { last_by_subj: 'dlq.shadow' });
  const record = dead!.json<{ stream: string; subject: string; reason: string }>();
  t.equal(record.stream, STREAMS.SHADOW);
  t.match(record.subject, /^shadow\.\d+\.event$/);
  t.equal(record.reason, 'value_invalid', 'a corrupt stored value is not retried');
  // The live instance of u1 is untouched by the shadow: only its own inputs.
  const liveU1 = await kv.get(`cart.${encodeKey('u1')}.${encodeKey('c1')}`);
  t.equal(instanceCodec.decode(liveU1!.value).status, 'completed');
});

void t.test('promote: the shadow becomes active; old instances finish, the shadow’s end', async (t) => {
  const { bus, sink } = await startPipeline(t);
  const HOLD_S = 6;
  await publishJourneys(bus, journey(cart({ holdS: HOLD_S })));
  await publishShadowVersion(bus, journey(cart({ holdS: HOLD_S })));
  await publishEvent(bus, [
    'track',
    { userId: 'u1', messageId: 'u1-c', event: 'checkout_started', properties: { cart_id: 'c1', total: 10 } },
  ]);
  await waitUntil(async () => (await shadowInstance(bus, 'u1', 'c1'))?.status === 'active', 15_000, 'shadow');

  const promoted = await promoteShadow(bus, 'cart');
  t.same(promoted, { id: 'cart', version: 2, previous: 1 });
  const head = await readJourneyHead(bus, 'cart');
  t.same(head?.versions, { '1': 'draining', '2': 'active' });
  t.equal(head?.active, 2);
  t.equal(head?.shadow, null);

  // u1's purchase: the v1 instance (draining) finishes and delivers.
  await publishEvent(bus, [
    'track',
    { userId: 'u1', messageId: 'u1-o', event: 'order_completed', properties: { cart_id: 'c1' } },
  ]);
  // A new cart enters v2, which now delivers.
  await publishEvent(bus, [
    'track',
    { userId: 'u2', messageId: 'u2-c', event: 'checkout_started', properties: { cart_id: 'c2', total: 10 } },
  ]);
  await publishEvent(bus, [
    'track',
    { userId: 'u2', messageId: 'u2-o', event: 'order_completed', properties: { cart_id: 'c2' } },
  ]);
  await sink.waitFor(2, 30_000);
  const versions = Object.fromEntries(
    sink.requests.map((r) => {
      const b = r.body as { cart: string; _cairn: { step_key: { version: number } } };
      return [b.cart, b._cairn.step_key.version];
    }),
  );
  t.same(versions, { c1: 1, c2: 2 }, 'u1 finished on v1, u2 entered v2; both delivered');
  // The shadow's instance of u1 ends when its hold's timer fires, and would send nothing.
  await waitUntil(
    async () => (await shadowInstance(bus, 'u1', 'c1'))?.status === 'exited',
    HOLD_S * 1_000 + 20_000,
    'the shadow instance ended',
  );
  t.equal((await shadowInstance(bus, 'u1', 'c1'))?.endReason, 'shadow_ended');
  // Its journal record follows the instance's commit (commit, then effects).
  let records = await journal(bus);
  await waitUntil(
    async () => {
      records = await journal(bus);
      return records.some((r) => r.shadow && r.type === 'exited' && r.reason === 'shadow_ended');
    },
    10_000,
    'its end journaled, marked shadow',
  );
  t.same(wouldSends(records), [], 'the ended shadow instance would send nothing');
  t.equal(await shadowInstance(bus, 'u2', 'c2'), undefined, 'no shadow any more: u2 has no shadow instance');
  t.equal(sink.requests.length, 2, 'and nothing else was delivered');
});

void t.test('archive --shadow: the shadow stops; its pending timer is a no-op', async (t) => {
  const { bus, sink } = await startPipeline(t);
  await publishJourneys(bus, journey(cart({ holdS: 4 })));
  await publishShadowVersion(bus, journey(cart({ holdS: 4 })));
  await publishEvent(bus, [
    'track',
    { userId: 'u1', messageId: 'u1-c', event: 'checkout_started', properties: { cart_id: 'c1', total: 10 } },
  ]);
  await waitUntil(async () => (await shadowInstance(bus, 'u1', 'c1'))?.status === 'active', 15_000, 'shadow');
  t.same(await archiveShadow(bus, 'cart'), { version: 2 });
  t.same((await readJourneyHead(bus, 'cart'))?.versions, { '1': 'active', '2': 'archived' });

  // The live hold times out and nudges; the shadow's timer only ends its instance.
  await sink.waitFor(1, 30_000);
  await waitUntil(async () => (await shadowInstance(bus, 'u1', 'c1'))?.status === 'exited', 15_000, 'ended');
  t.equal((await shadowInstance(bus, 'u1', 'c1'))?.endReason, 'shadow_ended');
  const records = await journal(bus);
  t.same(wouldSends(records), [], 'no would_send after the archive');
  t.notOk(
    records.some((r) => r.shadow && r.type === 'timer.fired'),
    'the shadow timer did not advance the instance',
  );
  t.equal(sink.requests.length, 1, 'the live version delivered its nudge');
});

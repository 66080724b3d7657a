// Crash recovery, end to end, with each service in its own process: the sender, the matcher
// and the timer are SIGKILLed in the middle of journeys and started again. Every delivery the
// simulator predicts arrives; no delivery id arrives twice, except one whose request was at the
// destination when the sender died before recording it (at least once, DESIGN §5.3: receivers
// dedupe on the id); no timer is lost, and none fires early.
import t from 'tap';

import { BUCKETS } from '../../libs/bus/index.js';
import { withBus } from '../helpers/bus.js';
import { startHttpSink } from '../helpers/http-sink.js';
import {
  deliveryIdOf,
  journey,
  oracle,
  publishEvents,
  publishJourneys,
  type ProducerEvent,
} from '../helpers/pipeline.js';
import { spawnService, type ServiceName, type ServiceProcess } from './processes.js';
import { parseDestinationFile, putDestination } from '../../libs/bus/index.js';

const HOLD_S = 6;

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
    timeout: { after: ${HOLD_S}s, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Cart Abandoned
    payload: { cart_id: entry.properties.cart_id }
    next: end
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], event: Form Submitted }
`;

const USERS = 150;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void t.test('SIGKILL of sender, matcher and timer mid-journey loses and repeats nothing', async (t) => {
  const { bus, server } = await withBus(t, { CAIRN_PARTITIONS: '4' });
  // A slow destination keeps requests in flight, so that the sender dies in the middle of some.
  const sink = await startHttpSink(() => ({ status: 200, delayMs: 40 }));
  t.teardown(() => sink.close());
  const env = {
    NATS_URL: server.url,
    CAIRN_PARTITIONS: '4',
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_ACK_WAIT: '2s',
    // A restarted service takes over its killed predecessor's partition leases once they ran out.
    CAIRN_LEASE_TTL: '3s',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
  };
  const running = new Map<ServiceName, ServiceProcess>();
  const start = async (name: ServiceName): Promise<void> => {
    const p = spawnService(name, env);
    running.set(name, p);
    await p.ready;
  };
  t.teardown(async () => {
    for (const p of running.values()) await p.kill();
  });
  for (const name of ['ingest', 'matcher', 'timer', 'sender'] as const) await start(name);

  await putDestination(bus, parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook` }));
  const cart = journey(CART);
  const forward = journey(FORWARD);
  await publishJourneys(bus, cart, forward);

  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  const first: ProducerEvent[] = users.flatMap((userId): ProducerEvent[] => [
    ['track', { userId, messageId: `${userId}-f`, event: 'form_submitted', properties: { form_id: 'f' } }],
    ['track', { userId, messageId: `${userId}-c`, event: 'checkout_started', properties: { cart_id: 'c' } }],
  ]);
  const purchases: ProducerEvent[] = users
    .filter((_, i) => i % 3 !== 2)
    .map((userId) => [
      'track',
      { userId, messageId: `${userId}-p`, event: 'purchase_completed', properties: { cart_id: 'c' } },
    ]);
  const timeline = oracle([cart, forward], [...first, ...purchases]);
  const expected = timeline.sends.map((s) => s.deliveryId).sort();
  t.equal(expected.length, USERS + USERS, 'a form and a thanks or a nudge per user');

  // 1. The timer dies as the journeys start: every hold's timer is pending while it is down.
  const startedAt = Date.now();
  await publishEvents(bus, first);
  await running.get('timer')?.kill();

  // 2. The matcher dies while it applies the purchases. They are published right away, well
  // before the holds' deadline however loaded the host is (the oracle counts on it); the
  // matcher may apply them after it, which the watermark (DESIGN §5.5) makes safe.
  await publishEvents(bus, purchases);
  const purchasedAt = Date.now() - startedAt;
  await running.get('matcher')?.kill();
  await start('matcher');

  // 3. The sender dies with requests in flight at the destination.
  await sink.waitFor(20, 30_000);
  await running.get('sender')?.kill();
  const atKill = new Set(sink.requests.map(deliveryIdOf));
  const sent = await bus.kv(BUCKETS.sent);
  // Only these may arrive twice: received by the destination, but not recorded as sent.
  const unrecorded = new Set<string>();
  for (const id of atKill) {
    const rec = await sent.get(id);
    if (rec === null || rec.operation !== 'PUT') unrecorded.add(id);
  }
  t.ok(
    atKill.size < expected.length,
    `the sender died mid-flight (${atKill.size} of ${expected.length} deliveries had arrived)`,
  );
  t.ok(
    purchasedAt < HOLD_S * 1_000,
    `the purchases were published ${purchasedAt} ms in, before the deadline`,
  );
  await start('sender');

  // 4. The timer comes back after every deadline passed, and catches up.
  await sleep(Math.max(0, startedAt + (HOLD_S + 2) * 1_000 - Date.now()));
  const timerUpAt = Date.now();
  await start('timer');

  await sink.waitFor((rs) => new Set(rs.map(deliveryIdOf)).size >= expected.length, 60_000);
  await sleep(2_000); // anything extra would arrive now
  const got = sink.requests.map(deliveryIdOf);
  const unique = new Set(got);
  t.same([...unique].sort(), expected, 'exactly the predicted delivery ids arrived', {
    missing: expected.filter((id) => !unique.has(id)),
    extra: sink.requests
      .filter((r) => !expected.includes(deliveryIdOf(r)))
      .map((r) => [r.body, r.at - startedAt]),
  });
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const id of got) {
    if (seen.has(id)) twice.push(id);
    seen.add(id);
  }
  t.same(
    twice.filter((id) => !unrecorded.has(id)),
    [],
    `no recorded delivery arrives twice (${twice.length} re-sent of ${unrecorded.size} unrecorded at the kill)`,
  );

  const nudges = sink.requests.filter((r) => (r.body as { cart_id?: string }).cart_id !== undefined);
  t.equal(nudges.length, USERS / 3, 'every nudge arrived although the timer was down at the deadlines');
  const earliest = Math.min(...nudges.map((r) => r.at));
  t.ok(earliest >= startedAt + HOLD_S * 1_000, 'no nudge before its hold timed out');
  t.ok(earliest >= timerUpAt, 'the nudges were fired by the restarted timer');
});

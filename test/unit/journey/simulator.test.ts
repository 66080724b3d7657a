// The simulator one input at a time: a lean store reports exactly what a full one does, and the
// timer queue fires by instant, then by start order.
import t from 'tap';

import {
  makeEvent,
  Simulator,
  TimerQueue,
  type JournalRecord,
  type NormalizedEvent,
  type SimulatedSend,
} from '../../../libs/journey/index.js';
import { journeyFrom, MIN, SEC, T0 } from './engine-helpers.js';

const CART = `
id: cart
name: Cart
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
exit:
  - { event: order_refunded, sameKey: true }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: again, event: cart_modified, restart: true }
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 10m, next: big }
  - id: big
    type: data_split
    branches: [{ id: large, where: { entry.properties.total: { gte: 100 } }, next: nudge }]
    else: end
  - { id: nudge, type: send, to: [crm], event: Nudge, next: end }
  - { id: thanks, type: send, to: [crm], event: Thanks, next: end }
  - { id: end, type: exit }
`;

function workload(): NormalizedEvent[] {
  const names = ['checkout_started', 'cart_modified', 'purchase_completed', 'order_refunded', 'page'];
  const events: NormalizedEvent[] = [];
  for (let i = 0; i < 3_000; i++) {
    const name = names[(Math.imul(i, 2654435761) >>> 0) % names.length] as string;
    events.push(
      makeEvent({
        name,
        ...(name === 'page' ? { type: 'page' as const } : {}),
        userId: `u${i % 37}`,
        messageId: `m${i}`,
        at: T0 + i * 2 * SEC,
        properties: { cart_id: `c${Math.floor(i / 370) % 3}`, total: (i * 13) % 200 },
      }),
    );
  }
  // A cart changed while its hold waits: a restart.
  const end = T0 + 3_000 * 2 * SEC;
  for (const [i, name] of ['checkout_started', 'cart_modified', 'cart_modified'].entries()) {
    events.push(
      makeEvent({
        name,
        userId: 'v',
        messageId: `v${i}`,
        at: end + i * SEC,
        properties: { cart_id: 'x', total: 150 },
      }),
    );
  }
  return events;
}

function run(compact: boolean) {
  const journal: JournalRecord[] = [];
  const sends: SimulatedSend[] = [];
  const sim = new Simulator(
    [journeyFrom(CART)],
    { journal: (r) => journal.push(r), send: (s) => sends.push(s) },
    {
      compact,
    },
  );
  for (const e of workload()) {
    sim.fireUntil(e.receivedAt);
    sim.event(e);
  }
  sim.fireUntil(T0 + 3_000 * 2 * SEC + 20 * MIN, true);
  return { journal, sends, open: [...sim.instances()].filter((i) => i.status === 'active').length };
}

void t.test('a lean store (compact ended instances, no applied commands) reports the same', (t) => {
  const full = run(false);
  const lean = run(true);
  t.ok(full.sends.length > 50, `sends happen (${full.sends.length})`);
  const types = new Set(full.journal.map((r) => r.type));
  for (const type of ['restarted', 'branch', 'timer.fired', 'completed', 'refused'] as const) {
    t.ok(types.has(type), `the workload has ${type} records`);
  }
  t.same(lean.sends, full.sends, 'the same sends, payloads included');
  t.same(lean.journal, full.journal, 'the same journal');
  t.equal(lean.open, full.open);
  t.end();
});

void t.test('timers fire by instant, then in the order they were started', (t) => {
  const q = new TimerQueue();
  const at = [5, 1, 5, 3, 1, 9, 5];
  at.forEach((a, i) => q.push({ at: a, token: `t${i}`, journeyId: 'j', userKey: 'u', instanceKey: '_' }));
  t.same(
    q.ordered().map((x) => x.token),
    ['t1', 't4', 't3', 't0', 't2', 't6', 't5'],
  );
  const popped: string[] = [];
  for (let x = q.pop(); x; x = q.pop()) popped.push(x.token);
  t.same(popped, ['t1', 't4', 't3', 't0', 't2', 't6', 't5']);
  t.equal(q.size, 0);
  t.end();
});

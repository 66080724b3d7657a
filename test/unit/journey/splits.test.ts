// Data splits (traits, audiences, context; first match wins) and random splits (weights,
// sticky per user, re-drawn per entry otherwise).
import t from 'tap';
import {
  pickRandomBranch,
  simulate,
  splitPoint,
  type EventSpec,
  type RandomSplitStep,
} from '../../../libs/journey/index.js';
import { HOUR, journeyFrom, MIN, T0 } from './engine-helpers.js';

const ROUTE = `
id: route
name: Route
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
events:
  coupon_applied: { carries: [properties.cart_id] }
steps:
  - id: wait-coupon
    type: hold_until
    branches: [{ id: coupon, event: coupon_applied, next: route }]
    timeout: { after: 10m, next: route }
  - id: route
    type: data_split
    branches:
      - { id: vip, where: { profile.traits.plan: pro, profile.audiences: { contains: high-value } }, next: vip-send }
      - { id: couponed, where: { events.coupon.properties.code: { startsWith: SAVE } }, next: coupon-send }
      - { id: big-cart, where: { entry.properties.total: { gte: 100 } }, next: big-send }
      - { id: mine, where: { journey.instanceKey: mine, journey.id: route }, next: big-send }
    else: standard-send
  - { id: vip-send, type: send, to: [crm], event: VIP, next: done }
  - { id: coupon-send, type: send, to: [crm], event: Coupon, next: done }
  - { id: big-send, type: send, to: [crm], event: Big, next: done }
  - { id: standard-send, type: send, to: [crm], event: Standard, next: done }
  - { id: done, type: exit }
`;

void t.test('data split: traits, audiences, captured events, entry properties, else', (t) => {
  const journey = journeyFrom(ROUTE);
  const start = (user: string, cart: string, total: number): EventSpec => ({
    name: 'checkout_started',
    userId: user,
    at: T0,
    properties: { cart_id: cart, total },
  });
  const timeline = simulate(
    journey,
    [
      start('vip', 'c1', 10),
      start('pro-no-audience', 'c2', 10),
      start('big', 'c3', 150),
      start('coupon', 'c4', 150),
      {
        name: 'coupon_applied',
        userId: 'coupon',
        at: T0 + MIN,
        properties: { cart_id: 'c4', code: 'SAVE10' },
      },
      start('small', 'c5', 5),
      start('keyed', 'mine', 5),
    ],
    {
      profiles: {
        vip: { traits: { plan: 'pro' }, audiences: ['high-value'] },
        'pro-no-audience': { traits: { plan: 'pro' }, audiences: [] },
      },
    },
  );
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.userId, s.payload.event]),
    [
      [MIN, 'coupon', 'Coupon'],
      [10 * MIN, 'vip', 'VIP'],
      [10 * MIN, 'pro-no-audience', 'Standard'],
      [10 * MIN, 'big', 'Big'],
      [10 * MIN, 'small', 'Standard'],
      [10 * MIN, 'keyed', 'Big'],
    ],
  );
  t.same(
    timeline.journal
      .filter((r) => r.type === 'branch' && r.stepId === 'route')
      .map((r) => [r.userKey, r.branchId]),
    [
      ['coupon', 'couponed'],
      ['vip', 'vip'],
      ['pro-no-audience', 'else'],
      ['big', 'big-cart'],
      ['small', 'else'],
      ['keyed', 'mine'],
    ],
  );
  t.end();
});

void t.test('data split without else goes on to the next step; at the end the instance completes', (t) => {
  const journey = journeyFrom(`
id: no-else
name: No else
trigger: { event: go }
entry: { mode: once }
steps:
  - id: route
    type: data_split
    branches: [{ id: pro, where: { profile.traits.plan: pro }, next: pro-send }]
  - { id: everyone, type: send, to: [crm], next: done }
  - { id: done, type: exit }
  - { id: pro-send, type: send, to: [crm] }
`);
  const timeline = simulate(
    journey,
    [
      { name: 'go', userId: 'basic', at: T0 },
      { name: 'go', userId: 'pro', at: T0 },
    ],
    { profiles: { pro: { traits: { plan: 'pro' }, audiences: [] } } },
  );
  t.same(
    timeline.sends.map((s) => [s.payload.userId, s.stepKey.stepId]),
    [
      ['basic', 'everyone'],
      ['pro', 'pro-send'],
    ],
  );
  t.same(
    timeline.instances.map((i) => [i.userKey, i.endReason]),
    [
      ['basic', 'exit_step'],
      ['pro', 'end_of_path'],
    ],
  );
  t.end();
});

const AB = (sticky: boolean) => `
id: ab
name: AB
trigger: { event: visit }
entry: { mode: every_time, uniqueBy: properties.visit_id }
steps:
  - id: split
    type: random_split
    sticky: ${sticky}
    branches:
      - { id: a, weight: 20, next: send-a }
      - { id: b, weight: 30, next: send-b }
      - { id: c, weight: 50, next: send-c }
  - { id: send-a, type: send, to: [crm], next: done }
  - { id: send-b, type: send, to: [crm], next: done }
  - { id: send-c, type: send, to: [crm], next: done }
  - { id: done, type: exit }
`;

function branchesByUser(sticky: boolean, users: number, visitsPerUser: number): Map<string, string[]> {
  const events: EventSpec[] = [];
  for (let v = 0; v < visitsPerUser; v++) {
    for (let u = 0; u < users; u++) {
      events.push({
        name: 'visit',
        userId: `user-${u}`,
        at: T0 + v * HOUR,
        properties: { visit_id: `v${v}` },
      });
    }
  }
  const timeline = simulate(journeyFrom(AB(sticky)), events);
  const out = new Map<string, string[]>();
  for (const r of timeline.journal) {
    if (r.type !== 'branch') continue;
    const list = out.get(r.userKey) ?? [];
    list.push(String(r.branchId));
    out.set(r.userKey, list);
  }
  return out;
}

for (const sticky of [true, false]) {
  void t.test(
    `random split (sticky: ${sticky}): the distribution over 10,000 users follows the weights`,
    (t) => {
      const byUser = branchesByUser(sticky, 10_000, 1);
      const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
      for (const [first] of byUser.values()) counts[String(first)]!++;
      t.equal(byUser.size, 10_000);
      // Binomial sd at n = 10,000 is ~0.5 %; 2 percentage points is a safe and still tight band.
      t.ok(Math.abs(counts.a! - 2000) < 200, `a: ${counts.a}`);
      t.ok(Math.abs(counts.b! - 3000) < 200, `b: ${counts.b}`);
      t.ok(Math.abs(counts.c! - 5000) < 200, `c: ${counts.c}`);
      t.end();
    },
  );
}

void t.test('random split: sticky keeps a user on one branch across re-entries; not sticky re-draws', (t) => {
  const sticky = branchesByUser(true, 500, 4);
  const notSticky = branchesByUser(false, 500, 4);
  const changed = (m: Map<string, string[]>) => [...m.values()].filter((l) => new Set(l).size > 1).length;
  t.equal(
    [...sticky.values()].every((l) => l.length === 4),
    true,
    'every re-entry went through the split',
  );
  t.equal(changed(sticky), 0, 'sticky: never another branch');
  t.ok(
    changed(notSticky) > 250,
    `not sticky: most users see another branch at some entry (${changed(notSticky)})`,
  );
  t.end();
});

void t.test('random split: point and band edge cases', (t) => {
  const step: RandomSplitStep = {
    id: 's',
    type: 'random_split',
    sticky: false,
    branches: [
      { id: 'zero', weight: 0, next: 'x' },
      { id: 'all', weight: 100, next: 'y' },
    ],
  };
  const draw = { userKey: 'u', instanceId: 'i', visit: 1 };
  const point = splitPoint(step, draw);
  t.ok(point >= 0 && point < 100);
  t.equal(splitPoint(step, draw), point, 'deterministic');
  t.not(splitPoint(step, { ...draw, visit: 2 }), point, 'another visit, another draw');
  t.equal(pickRandomBranch(step, draw)?.id, 'all', 'a zero weight is never drawn');
  const empty: RandomSplitStep = { ...step, branches: [{ id: 'only', weight: 0 }] };
  t.equal(pickRandomBranch(empty, draw)?.id, 'only', 'weights summing to 0: the last branch');
  const none: RandomSplitStep = { ...step, branches: [] };
  t.equal(pickRandomBranch(none, draw), undefined);
  t.end();
});

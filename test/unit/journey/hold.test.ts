// Hold until: branches, restarts and their cap, keys, and lookback.
import t from 'tap';
import { MAX_RECENT, simulate, type EventSpec } from '../../../libs/journey/index.js';
import { HOUR, journalLines, journeyFrom, MIN, SEC, T0 } from './engine-helpers.js';

const CART = `
id: cart
name: Cart
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
events:
  cart_modified: { carries: [properties.cart_id] }
  purchase_completed: { carries: [properties.cart_id] }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: modified, event: cart_modified, restart: true }
      - { id: bought, event: purchase_completed, where: { properties.total: { gte: 1 } }, next: thanks }
    timeout: { after: 1h, next: nudge }
  - { id: nudge, type: send, to: [crm], event: Nudge, next: done }
  - { id: thanks, type: send, to: [crm], event: Thanks, next: done }
  - { id: done, type: exit }
`;
const ev = (name: string, at: number, properties: Record<string, unknown> = {}): EventSpec => ({
  name,
  userId: 'u1',
  at: T0 + at,
  properties: { cart_id: 'c1', ...properties },
});

void t.test('the restart cap: 100 restarts, then restart events are refused and ignored', (t) => {
  const journey = journeyFrom(CART);
  const modifications = Array.from({ length: 102 }, (_, i) =>
    ev('cart_modified', (i + 1) * MIN, { n: i + 1 }),
  );
  const timeline = simulate(journey, [ev('checkout_started', 0), ...modifications]);
  const instance = timeline.instances[0];
  t.equal(instance?.restarts.wait, 100);
  t.same(instance?.context.events['cart_modified - modified']?.properties, { cart_id: 'c1', n: 100 });
  t.same(
    timeline.refusals.map((r) => [r.reason, r.stepId, r.branchId, r.detail?.restarts]),
    [
      ['restart_limit', 'wait', 'modified', 100],
      ['restart_limit', 'wait', 'modified', 100],
    ],
  );
  // The 100th restart (at 100m) set the last deadline.
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.event]),
    [[100 * MIN + HOUR, 'Nudge']],
  );
  t.equal(timeline.timers.filter((x) => x.outcome === 'fired').length, 1);
  t.equal(timeline.timers.filter((x) => x.outcome === 'stale').length, 100);
  t.end();
});

void t.test('a configured restart cap', (t) => {
  const journey = journeyFrom(CART, { limits: { maxRestarts: 2 } });
  const timeline = simulate(journey, [
    ev('checkout_started', 0),
    ev('cart_modified', 10 * MIN),
    ev('cart_modified', 20 * MIN),
    ev('cart_modified', 30 * MIN),
  ]);
  t.same(
    journalLines(timeline).filter((l) => /restart/.test(l)),
    ['restarted wait modified', 'restarted wait modified', 'refused restart_limit wait modified'],
  );
  t.same(
    timeline.sends.map((s) => s.at - T0),
    [20 * MIN + HOUR],
  );
  t.end();
});

void t.test('hold branches: where, keys, and only before the deadline', (t) => {
  const journey = journeyFrom(CART);
  const timeline = simulate(journey, [
    ev('checkout_started', 0),
    ev('purchase_completed', 10 * MIN, { total: 0 }), // fails the branch's where
    ev('purchase_completed', 11 * MIN, { cart_id: 'other', total: 5 }), // another cart
    ev('purchase_completed', 12 * MIN, { total: 5 }),
  ]);
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.event]),
    [[12 * MIN, 'Thanks']],
  );
  t.same(timeline.instances[0]?.context.events['purchase_completed']?.properties, {
    cart_id: 'c1',
    total: 5,
  });
  t.same(timeline.instances[0]?.context.events['purchase_completed - bought']?.properties, {
    cart_id: 'c1',
    total: 5,
  });
  t.end();
});

const LOOKBACK = `
id: onboarding
name: Onboarding
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: settle, type: delay, after: 10m }
  - { id: welcome, type: send, to: [crm], event: Welcome }
  - id: wait-profile
    type: hold_until
    lookback: 5m
    branches:
      - { id: completed, event: profile_completed, where: { properties.ok: true }, next: thanks }
      - { id: touched, event: profile_touched, restart: true }
    timeout: { after: 1h, next: nudge }
  - { id: nudge, type: send, to: [crm], event: Nudge, next: done }
  - { id: thanks, type: send, to: [crm], event: Thanks, next: done }
  - { id: done, type: exit }
`;
const user = (
  name: string,
  at: number,
  userId: string,
  properties: Record<string, unknown> = {},
): EventSpec => ({
  name,
  userId,
  at: T0 + at,
  properties,
});

void t.test('lookback: an event seen shortly before the hold began is applied when it begins', (t) => {
  const journey = journeyFrom(LOOKBACK);
  const timeline = simulate(journey, [
    // u1: completed 3 minutes before the hold (at 10m) began: within the 5m lookback.
    user('signed_up', 0, 'u1'),
    user('profile_completed', 7 * MIN, 'u1', { ok: true }),
    // u2: completed 8 minutes before: too early.
    user('signed_up', 0, 'u2'),
    user('profile_completed', 2 * MIN, 'u2', { ok: true }),
    // u3: an event the branch's where refuses, then one it accepts: the accepted one wins.
    user('signed_up', 0, 'u3'),
    user('profile_completed', 6 * MIN, 'u3', { ok: false }),
    user('profile_completed', 8 * MIN, 'u3', { ok: true, n: 2 }),
    // u4: an event no hold listens to is not remembered.
    user('signed_up', 0, 'u4'),
    user('page_viewed', 8 * MIN, 'u4'),
  ]);
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.userId, s.payload.event]),
    [
      [10 * MIN, 'u1', 'Welcome'],
      [10 * MIN, 'u1', 'Thanks'],
      [10 * MIN, 'u2', 'Welcome'],
      [10 * MIN, 'u3', 'Welcome'],
      [10 * MIN, 'u3', 'Thanks'],
      [10 * MIN, 'u4', 'Welcome'],
      [70 * MIN, 'u2', 'Nudge'],
      [70 * MIN, 'u4', 'Nudge'],
    ],
  );
  const u1 = journalLines(timeline).filter((_, i) => timeline.journal[i]?.userKey === 'u1');
  t.same(u1.slice(-7), [
    'waiting wait-profile',
    'step lookback wait-profile completed',
    'branch wait-profile completed',
    'step thanks',
    'sent thanks',
    'step done',
    'completed exit_step done',
  ]);
  const u3 = timeline.instances.find((i) => i.userKey === 'u3');
  t.same(u3?.context.events['profile_completed - completed']?.properties, { ok: true, n: 2 });
  t.same(u3?.recent, [], 'an ended instance remembers nothing');
  const u2 = timeline.instances.find((i) => i.userKey === 'u2');
  t.same(u2?.context.events, {});
  t.end();
});

void t.test('lookback memory is bounded and skipped while the hold listens itself', (t) => {
  const journey = journeyFrom(LOOKBACK);
  const many = Array.from({ length: 30 }, (_, i) =>
    user('profile_completed', MIN + i * SEC, 'u1', { ok: false, n: i }),
  );
  const timeline = simulate(journey, [user('signed_up', 0, 'u1'), ...many], { until: T0 + 2 * MIN });
  const instance = timeline.instances[0];
  t.equal(instance?.recent.length, MAX_RECENT);
  t.same(instance?.recent[0]?.properties, { ok: false, n: 10 }, 'the newest are kept');
  // In the hold: a non-matching profile_completed is not remembered.
  const inHold = simulate(
    journey,
    [user('signed_up', 0, 'u1'), user('profile_completed', 11 * MIN, 'u1', { ok: false })],
    {
      until: T0 + 20 * MIN,
    },
  );
  t.same(inHold.instances[0]?.recent, []);
  t.equal(inHold.instances[0]?.stepId, 'wait-profile');
  // Memories older than the longest lookback are dropped as new ones arrive.
  const aged = simulate(
    journey,
    [user('signed_up', 0, 'u1'), user('profile_touched', MIN, 'u1'), user('profile_touched', 9 * MIN, 'u1')],
    { until: T0 + 9 * MIN },
  );
  t.same(
    aged.instances[0]?.recent.map((e) => e.receivedAt - T0),
    [9 * MIN],
  );
  t.same(
    aged.timers.map((x) => x.outcome),
    ['pending'],
  );
  t.end();
});

void t.test('lookback into a restart branch restarts the hold from its start', (t) => {
  const journey = journeyFrom(LOOKBACK);
  const timeline = simulate(journey, [user('signed_up', 0, 'u1'), user('profile_touched', 9 * MIN, 'u1')]);
  t.same(
    journalLines(timeline).filter((l) => /lookback|restart/.test(l)),
    ['step lookback wait-profile touched', 'restarted wait-profile touched'],
  );
  t.equal(timeline.instances[0]?.restarts['wait-profile'], 1);
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.event]),
    [
      [10 * MIN, 'Welcome'],
      [70 * MIN, 'Nudge'],
    ],
  );
  t.end();
});

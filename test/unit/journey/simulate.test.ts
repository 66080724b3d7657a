// The simulator itself: clock order, profiles, counters, options, determinism, helpers.
import t from 'tap';
import { SimulationError, makeEvent, simulate, type EventSpec } from '../../../libs/journey/index.js';
import { CART_ABANDONMENT } from './fixtures.js';
import { HOUR, journalLines, journeyFrom, MIN, SEC, T0 } from './engine-helpers.js';

const GREET = `
id: greet
name: Greet
trigger: { event: signed_up }
entry: { mode: every_time, uniqueBy: properties.n }
steps:
  - { id: wait, type: delay, after: 1h }
  - id: route
    type: data_split
    branches: [{ id: pro, where: { profile.traits.plan: pro }, next: pro-send }]
    else: basic-send
  - { id: basic-send, type: send, to: [crm], event: Basic, traits: [plan], next: done }
  - { id: pro-send, type: send, to: [crm], event: Pro, traits: [plan], next: done }
  - { id: done, type: exit }
`;
const signup = (at: number, n: number | string = 1, user = 'u1'): EventSpec => ({
  name: 'signed_up',
  userId: user,
  at: T0 + at,
  properties: { n },
});

void t.test('identify merges traits into the profile before later steps read them', (t) => {
  const timeline = simulate(
    journeyFrom(GREET),
    [signup(0), { type: 'identify', userId: 'u1', at: T0 + 30 * MIN, traits: { plan: 'pro' } }],
    { profiles: { u1: { traits: { plan: 'basic', email: 'a@b.c' }, audiences: [] } } },
  );
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.event, (s.payload.properties as { plan: string }).plan]),
    [[HOUR, 'Pro', 'pro']],
  );
  t.end();
});

void t.test('an event and a timer at one instant: the event first, and the deadline wins', (t) => {
  const timeline = simulate(
    journeyFrom(CART_ABANDONMENT),
    [
      {
        name: 'checkout_started',
        userId: 'u1',
        at: T0,
        properties: { cart_id: 'c', currency: 'USD', channel: 'web' },
      },
      { name: 'purchase_completed', userId: 'u1', at: T0 + HOUR, properties: { cart_id: 'c', total: 5 } },
    ],
    { profiles: { u1: { traits: {}, audiences: ['high-value'] } } },
  );
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.stepKey.stepId]),
    [[HOUR, 'nudge']],
  );
  t.same(
    timeline.timers.map((x) => x.outcome),
    ['stale'],
    'the event applied the timeout first; its timer then found nothing to do',
  );
  t.end();
});

void t.test('re-entry: every_time starts a new epoch after completion; once refuses', (t) => {
  const everyTime = simulate(journeyFrom(GREET), [signup(0), signup(2 * HOUR), signup(2 * HOUR + MIN)]);
  t.same(
    everyTime.entries.map((e) => [e.at - T0, e.instanceKey, e.epoch]),
    [
      [0, '1', 1],
      [2 * HOUR, '1', 2],
    ],
  );
  t.same(
    everyTime.refusals.map((r) => [r.at - T0, r.reason]),
    [[2 * HOUR + MIN, 'already_entered']],
  );
  t.not(everyTime.entries[0]?.instanceId, everyTime.entries[1]?.instanceId);
  const once = simulate(
    journeyFrom(
      GREET.replace('entry: { mode: every_time, uniqueBy: properties.n }', 'entry: { mode: once }'),
    ),
    [signup(0), signup(2 * HOUR)],
  );
  t.same(
    once.entries.map((e) => [e.instanceKey, e.epoch]),
    [['_', 1]],
  );
  t.same(
    once.refusals.map((r) => [r.at - T0, r.reason, r.detail?.status]),
    [[2 * HOUR, 'already_entered', 'completed']],
  );
  t.end();
});

void t.test('per-user limits: events per second and concurrent instances', (t) => {
  const burst = Array.from({ length: 27 }, (_, i) => signup(i * 10, i));
  const rate = simulate(journeyFrom(GREET), burst);
  t.equal(rate.entries.length, 25);
  t.same(
    rate.refusals.map((r) => [r.at - T0, r.reason]),
    [
      [250, 'rate_limited'],
      [260, 'rate_limited'],
    ],
  );
  const spread = Array.from({ length: 4 }, (_, i) => signup(i * SEC, i));
  const two = journeyFrom(GREET, { limits: { perUserConcurrentInstances: 2 } });
  const other = journeyFrom(GREET.replace('id: greet', 'id: greet-too'), {
    limits: { perUserConcurrentInstances: 2 },
  });
  const concurrent = simulate([two, other], spread);
  t.same(
    concurrent.entries.map((e) => [e.journeyId, e.instanceKey]),
    [
      ['greet', '0'],
      ['greet-too', '0'],
    ],
    'the limit counts instances across journeys',
  );
  t.equal(concurrent.refusals.length, 6);
  t.ok(concurrent.refusals.every((r) => r.reason === 'per_user_limit'));
  t.end();
});

void t.test('start and until bound the clock; timers after until stay pending', (t) => {
  const timeline = simulate(
    journeyFrom(GREET),
    [signup(-MIN, 'early'), signup(0, 'a'), signup(30 * MIN, 'b'), signup(3 * HOUR, 'late')],
    {
      start: T0,
      until: T0 + HOUR,
    },
  );
  t.same(
    timeline.entries.map((e) => e.instanceKey),
    ['a', 'b'],
  );
  t.same(
    timeline.timers.map((x) => [x.at - T0, x.instanceKey, x.outcome]),
    [
      [HOUR, 'a', 'fired'],
      [90 * MIN, 'b', 'pending'],
    ],
  );
  t.same(
    timeline.instances.map((i) => [i.instanceKey, i.status]),
    [
      ['a', 'completed'],
      ['b', 'active'],
    ],
  );
  t.end();
});

void t.test('a redelivered event is a duplicate: its commands are not played twice', (t) => {
  const e = makeEvent({ name: 'signed_up', userId: 'u1', at: T0, properties: { n: 1 } });
  const timeline = simulate(journeyFrom(GREET), [e, { ...e, receivedAt: T0 + SEC }]);
  t.equal(timeline.entries.length, 1);
  t.equal(timeline.timers.length, 1);
  t.same(
    journalLines(timeline).filter((l) => l === 'entered'),
    ['entered'],
  );
  t.end();
});

void t.test('determinism: the same inputs give a byte-identical timeline', (t) => {
  const events: EventSpec[] = [
    signup(0, 1),
    signup(MIN, 2, 'u2'),
    { type: 'identify', userId: 'u2', at: T0 + 2 * MIN, traits: { plan: 'pro' } },
    signup(3 * HOUR, 1),
  ];
  const run = () => JSON.stringify(simulate([journeyFrom(GREET), journeyFrom(CART_ABANDONMENT)], events));
  t.equal(run(), run());
  t.ok(run().length > 1000);
  t.end();
});

void t.test('makeEvent and the simulator’s input checks', (t) => {
  const e = makeEvent({
    type: 'identify',
    anonymousId: 'a1',
    at: T0,
    traits: { x: 1 },
    context: { ip: '1.2.3.4' },
  });
  t.match(e, {
    type: 'identify',
    name: 'identify',
    userKey: 'a1',
    anonymousId: 'a1',
    receivedAt: T0,
    timestamp: T0,
  });
  t.same(e.context, { ip: '1.2.3.4' });
  t.notOk('userId' in e);
  t.equal(makeEvent({ name: 'x', userId: 'u', at: 1, timestamp: 0 }).timestamp, 0);
  t.equal(
    makeEvent({ name: 'x', userId: 'u', at: 1 }).messageId,
    makeEvent({ name: 'x', userId: 'u', at: 1 }).messageId,
  );
  t.not(
    makeEvent({ name: 'x', userId: 'u', at: 1, properties: { a: 1 } }).messageId,
    makeEvent({ name: 'x', userId: 'u', at: 1, properties: { a: 2 } }).messageId,
  );
  t.equal(makeEvent({ name: 'x', userId: 'u', at: 1, messageId: 'm' }).messageId, 'm');
  t.equal(makeEvent({ userId: 'u', at: 1 }).name, 'track');
  t.throws(() => makeEvent({ name: 'x', at: 1 }), {
    name: 'SimulationError',
    code: 'CAIRN_E_SIMULATE_BAD_EVENT',
  });
  const j = journeyFrom(GREET);
  t.throws(() => simulate([j, j], []), SimulationError);
  t.throws(() => simulate([j, j], []), { code: 'CAIRN_E_SIMULATE_DUPLICATE_JOURNEY' });
  t.same(simulate(j, []), { entries: [], journal: [], timers: [], sends: [], refusals: [], instances: [] });
  t.end();
});

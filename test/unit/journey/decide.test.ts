// decide() in tables: an instance and an input in, exactly these commands out.
import t from 'tap';
import {
  MAX_TRANSITIONS,
  compile,
  decide,
  makeEvent,
  type CompiledJourney,
  type DecideContext,
  type Input,
  type Instance,
} from '../../../libs/journey/index.js';
import { ctxAt, HOUR, journeyFrom, MIN, SEC, summarize, T0 } from './engine-helpers.js';

const CHECKOUT = `
id: checkout
name: Checkout
trigger:
  event: checkout_started
  where: { properties.currency: USD }
  audience: buyers
entry: { mode: every_time, uniqueBy: properties.cart_id }
exit:
  rules:
    - { event: account_deleted }
    - { event: order_refunded, sameKey: true }
  send: { to: [crm], event: Exited, traits: [email] }
events:
  cart_modified: { carries: [properties.cart_id] }
  purchase_completed: { carries: [properties.cart_id] }
  order_refunded: { carries: [properties.cart_id] }
steps:
  - { id: cool-off, type: delay, after: 10m }
  - id: wait
    type: hold_until
    lookback: 5m
    branches:
      - { id: modified, event: cart_modified, restart: true }
      - { id: bought, event: purchase_completed, next: thanks }
    timeout: { after: 1h, next: nudge }
  - { id: nudge, type: send, to: [crm], event: Nudge, next: done }
  - { id: thanks, type: send, to: [crm], event: Thanks }
  - { id: done, type: exit }
`;
const journey = journeyFrom(CHECKOUT);
const BUYER = { traits: { email: 'ann@example.com' }, audiences: ['buyers'] };

function event(name: string, offset: number, properties: Record<string, unknown> = {}, user = 'u1'): Input {
  const e = makeEvent({ name, userId: user, at: T0 + offset, properties });
  return { kind: 'event', id: e.messageId, event: e };
}
const start = (cart = 'c1', offset = 0) =>
  event('checkout_started', offset, { cart_id: cart, currency: 'USD' });
const ctx = (offset: number, over: Partial<DecideContext> = {}) =>
  ctxAt(T0 + offset, { profile: BUYER, ...over });

/** Runs inputs one after the other from `instance`, as the matcher would. */
function play(j: CompiledJourney, inputs: Array<[Input, DecideContext?]>, instance?: Instance) {
  let current = instance;
  const all: string[][] = [];
  for (const [input, c] of inputs) {
    const at = input.kind === 'event' ? input.event.receivedAt : input.at;
    const d = decide(j, current, input, c ?? ctxAt(at, { profile: BUYER }));
    all.push(summarize(d.commands));
    current = d.instance;
  }
  return { instance: current, commands: all };
}
const timer = (instance: Instance | undefined, offset?: number): Input => ({
  kind: 'timer',
  id: `timer:${instance?.waitToken}`,
  token: String(instance?.waitToken),
  at: offset === undefined ? Number(instance?.waitUntil) : T0 + offset,
});

void t.test('entry: journals, runs to the first wait and starts its timer', (t) => {
  const d = decide(journey, undefined, start(), ctx(0));
  t.same(summarize(d.commands), [
    'journal entered',
    'journal step cool-off',
    'journal waiting cool-off',
    'timer.start +10m',
  ]);
  t.equal(d.duplicate, false);
  t.match(d.instance, {
    v: 1,
    journeyId: 'checkout',
    version: 1,
    userKey: 'u1',
    userId: 'u1',
    instanceKey: 'c1',
    epoch: 1,
    status: 'active',
    stepId: 'cool-off',
    waitStartedAt: T0,
    waitUntil: T0 + 10 * MIN,
    visits: { 'cool-off': 1 },
  });
  t.same(d.instance?.applied, [{ inputId: start().id, commands: d.commands }]);
  const ids = d.commands.map((c) => c.id);
  t.equal(new Set(ids).size, ids.length, 'command ids are unique');
  t.equal(d.commands.at(-1)?.id, d.instance?.waitToken, 'a timer is identified by its token');
  t.end();
});

void t.test('every refusal reason: one journal record, no instance change', (t) => {
  const ended: Instance = {
    ...(decide(journey, undefined, start(), ctx(0)).instance as Instance),
    status: 'completed',
  };
  const onceJourney = journeyFrom(`
id: once
name: Once
trigger: { event: checkout_started }
entry: { mode: once }
steps: [{ id: s, type: send, to: [crm] }]
`);
  const onceEnded = decide(onceJourney, undefined, start(), ctx(0)).instance;
  const long = 'x'.repeat(151);
  const cases: Array<[string, CompiledJourney, Instance | undefined, Input, DecideContext]> = [
    [
      'filter_failed',
      journey,
      undefined,
      event('checkout_started', 0, { cart_id: 'c1', currency: 'EUR' }),
      ctx(0),
    ],
    ['not_accepting_entries', journey, undefined, start(), ctx(0, { acceptsEntries: false })],
    [
      'audience_missing',
      journey,
      undefined,
      start(),
      ctx(0, { profile: { traits: {}, audiences: ['other'] } }),
    ],
    ['unique_by_missing', journey, undefined, event('checkout_started', 0, { currency: 'USD' }), ctx(0)],
    [
      'unique_by_missing',
      journey,
      undefined,
      event('checkout_started', 0, { currency: 'USD', cart_id: '' }),
      ctx(0),
    ],
    [
      'unique_by_missing',
      journey,
      undefined,
      event('checkout_started', 0, { currency: 'USD', cart_id: long }),
      ctx(0),
    ],
    [
      'unique_by_missing',
      journey,
      undefined,
      event('checkout_started', 0, { currency: 'USD', cart_id: {} }),
      ctx(0),
    ],
    ['already_entered', onceJourney, onceEnded, start('c1', HOUR), ctx(HOUR)],
    [
      'rate_limited',
      journey,
      undefined,
      start(),
      ctx(0, { user: { activeInstances: 0, eventsLastSecond: 25 } }),
    ],
    [
      'per_user_limit',
      journey,
      undefined,
      start(),
      ctx(0, { user: { activeInstances: 25, eventsLastSecond: 3 } }),
    ],
    [
      'per_user_limit',
      journey,
      ended,
      start('c1', HOUR),
      ctx(HOUR, { user: { activeInstances: 30, eventsLastSecond: 0 } }),
    ],
  ];
  for (const [reason, j, instance, input, c] of cases) {
    const d = decide(j, instance, input, c);
    t.same(summarize(d.commands), [`journal refused ${reason}`], reason);
    t.equal(d.instance, instance, `${reason}: the instance is unchanged`);
    const record = d.commands[0]?.kind === 'journal' ? d.commands[0].record : undefined;
    t.match(
      record,
      { journeyId: j.id, userKey: 'u1', inputId: input.id, at: c.now },
      `${reason}: the record`,
    );
  }
  t.end();
});

void t.test('events that concern no instance produce nothing', (t) => {
  const entered = decide(journey, undefined, start(), ctx(0)).instance;
  const cases: Array<[string, Instance | undefined, Input]> = [
    ['not the trigger, no instance', undefined, event('cart_modified', 0, { cart_id: 'c1' })],
    ['another key, not an exit', entered, event('cart_modified', MIN, { cart_id: 'c2' })],
    [
      'trigger for another key at an ended instance',
      { ...(entered as Instance), status: 'completed' },
      start('c2'),
    ],
    ['archive of no instance', undefined, { kind: 'archive', id: 'a1', at: T0 }],
    [
      'an event this journey does not know, at an active instance',
      entered,
      event('page', MIN, { cart_id: 'c1' }),
    ],
  ];
  for (const [name, instance, input] of cases) {
    const d = decide(journey, instance, input, ctx(MIN));
    t.same(d.commands, [], name);
    t.equal(d.instance, instance, name);
  }
  t.end();
});

void t.test('a duplicate input returns the recorded commands and changes nothing', (t) => {
  const first = decide(journey, undefined, start(), ctx(0));
  const again = decide(journey, first.instance, start(), ctx(5 * MIN));
  t.equal(again.duplicate, true);
  t.equal(again.instance, first.instance);
  t.same(again.commands, first.commands);
  t.equal(JSON.stringify(again.commands), JSON.stringify(first.commands), 'byte-identical');
  const timerInput = timer(first.instance);
  const fired = decide(journey, first.instance, timerInput, ctx(10 * MIN));
  const refired = decide(journey, fired.instance, timerInput, ctx(11 * MIN));
  t.equal(refired.duplicate, true);
  t.same(refired.commands, fired.commands);
  t.end();
});

void t.test('applied inputs: the last 8 are kept', (t) => {
  let instance = decide(journey, undefined, start(), ctx(0)).instance;
  instance = decide(journey, instance, timer(instance), ctx(10 * MIN)).instance;
  for (let i = 1; i <= 9; i++) {
    instance = decide(
      journey,
      instance,
      event('cart_modified', 10 * MIN + i * MIN, { cart_id: 'c1', n: i }),
      ctx(11 * MIN),
    ).instance;
  }
  t.equal(instance?.applied.length, 8);
  t.equal(instance?.restarts.wait, 9);
  t.end();
});

void t.test('timers: stale, early and archived inputs', (t) => {
  const entered = decide(journey, undefined, start(), ctx(0)).instance as Instance;
  const ended = { ...entered, status: 'exited' as const };
  const cases: Array<[string, Instance | undefined, Input, string[]]> = [
    [
      'wrong token',
      entered,
      { kind: 'timer', id: 't1', token: 'nope', at: T0 + HOUR },
      ['journal ignored stale_timer'],
    ],
    ['ended instance', ended, timer(entered), ['journal ignored stale_timer']],
    [
      'no instance',
      undefined,
      { kind: 'timer', id: 't2', token: 'x', at: T0 },
      ['journal ignored stale_timer'],
    ],
    ['early', entered, timer(entered, 5 * MIN), ['journal ignored early_timer']],
    ['archive of an ended instance', ended, { kind: 'archive', id: 'a', at: T0 }, []],
  ];
  for (const [name, instance, input, expected] of cases) {
    const d = decide(journey, instance, input, ctx(HOUR));
    t.same(summarize(d.commands), expected, name);
    t.equal(d.instance, instance, `${name}: unchanged`);
  }
  const archived = decide(journey, entered, { kind: 'archive', id: 'a2', at: T0 + MIN }, ctx(MIN));
  t.same(summarize(archived.commands), [
    'journal exited version_archived cool-off',
    'instance.end exited version_archived',
  ]);
  t.match(archived.instance, {
    status: 'exited',
    endReason: 'version_archived',
    stepId: null,
    waitToken: undefined,
  });
  t.end();
});

void t.test('deadline first: an event received after the deadline meets the timed-out instance', (t) => {
  // Enter, leave the delay, wait in the hold until T0 + 70m.
  const { instance: waiting } = play(journey, [
    [start()],
    [timer(decide(journey, undefined, start(), ctx(0)).instance)],
  ]);
  t.equal(waiting?.stepId, 'wait');
  t.equal(waiting?.waitUntil, T0 + 70 * MIN);
  const late = decide(
    journey,
    waiting,
    event('purchase_completed', 71 * MIN, { cart_id: 'c1' }),
    ctx(72 * MIN),
  );
  t.same(summarize(late.commands), [
    'journal timer.fired timeout wait',
    'journal step nudge',
    'deliver crm Nudge',
    'journal sent nudge',
    'journal step done',
    'journal completed exit_step done',
    'instance.end completed exit_step',
  ]);
  const deliver = late.commands.find((c) => c.kind === 'deliver');
  t.match(deliver, {
    eventReceivedAt: T0 + 70 * MIN,
    payload: { timestamp: new Date(T0 + 70 * MIN).toISOString() },
  });
  const atDeadline = decide(
    journey,
    waiting,
    event('purchase_completed', 70 * MIN, { cart_id: 'c1' }),
    ctx(72 * MIN),
  );
  t.equal(atDeadline.instance?.endReason, 'exit_step', 'an event at the deadline itself is late');
  t.notOk(atDeadline.commands.some((c) => c.kind === 'deliver' && c.payload.event === 'Thanks'));
  const early = decide(
    journey,
    waiting,
    event('purchase_completed', 69 * MIN, { cart_id: 'c1' }),
    ctx(200 * MIN),
  );
  t.same(summarize(early.commands), [
    'journal branch wait bought',
    'journal step thanks',
    'deliver crm Thanks',
    'journal sent thanks',
    'journal step done',
    'journal completed exit_step done',
    'instance.end completed exit_step',
  ]);
  // The timer that fires afterwards finds nothing to do.
  const stale = decide(journey, late.instance, timer(waiting), ctx(73 * MIN));
  t.same(summarize(stale.commands), ['journal ignored stale_timer']);
  t.end();
});

void t.test('deadline first: several passed waits end in order, then the trigger re-enters', (t) => {
  const entered = decide(journey, undefined, start(), ctx(0)).instance;
  // Received after both the delay (10m) and the hold (70m) ended: the old instance completes,
  // and the same trigger event starts epoch 2 at its key.
  const d = decide(journey, entered, start('c1', 3 * HOUR), ctx(3 * HOUR));
  t.same(summarize(d.commands), [
    'journal timer.fired delay_elapsed cool-off',
    'journal step wait',
    'journal waiting wait',
    'journal timer.fired timeout wait',
    'journal step nudge',
    'deliver crm Nudge',
    'journal sent nudge',
    'journal step done',
    'journal completed exit_step done',
    'instance.end completed exit_step',
    'journal entered',
    'journal step cool-off',
    'journal waiting cool-off',
    'timer.start +190m',
  ]);
  t.match(d.instance, { epoch: 2, status: 'active', instanceKey: 'c1' });
  t.not(d.instance?.id, entered?.id);
  t.equal(d.instance?.applied.length, 2, 'the first epoch’s inputs stay known');
  // Past-deadline event that is neither trigger nor for this instance: only the catch-up.
  const other = decide(journey, entered, event('cart_modified', 3 * HOUR, { cart_id: 'c1' }), ctx(3 * HOUR));
  t.equal(other.instance?.status, 'completed');
  t.equal(other.instance?.applied.length, 2);
  // A refused trigger after a catch-up keeps the catch-up.
  const refused = decide(journey, entered, start('c1', 3 * HOUR), ctx(3 * HOUR, { acceptsEntries: false }));
  t.same(summarize(refused.commands).slice(-2), [
    'instance.end completed exit_step',
    'journal refused not_accepting_entries',
  ]);
  t.equal(refused.instance?.status, 'completed');
  t.end();
});

void t.test('a trigger for an active key is refused and still applied to the instance', (t) => {
  const entered = decide(journey, undefined, start(), ctx(0)).instance;
  const d = decide(journey, entered, start('c1', MIN), ctx(MIN));
  t.same(summarize(d.commands), ['journal refused already_entered']);
  t.equal(d.instance, entered, 'the refusal alone changes nothing');
  // With an effect on the instance (here: the delay ended), the refusal comes last.
  const later = decide(journey, entered, start('c1', 20 * MIN), ctx(20 * MIN));
  t.same(summarize(later.commands), [
    'journal timer.fired delay_elapsed cool-off',
    'journal step wait',
    'journal waiting wait',
    'journal refused already_entered',
    'timer.start +70m',
  ]);
  t.equal(later.instance?.id, entered?.id);
  t.end();
});

void t.test('guards for journeys that skipped validation', (t) => {
  const base = journeyFrom(CHECKOUT).doc;
  // A cycle of data splits: validation refuses it; decide must still stop.
  const cyclic = compile(
    {
      ...base,
      trigger: { event: 'checkout_started', where: [] },
      steps: [
        { id: 'a', type: 'data_split', branches: [], else: 'b' },
        { id: 'b', type: 'data_split', branches: [], else: 'a' },
      ],
    },
    { version: 1 },
  );
  const looped = decide(cyclic, undefined, start(), ctx(0));
  t.match(looped.instance, { status: 'exited', endReason: 'step_loop' });
  t.equal(
    looped.commands.filter((c) => c.kind === 'journal' && c.record.type === 'step').length,
    MAX_TRANSITIONS,
  );
  t.same(summarize(looped.commands).slice(-2), [
    'journal exited step_loop a',
    'instance.end exited step_loop',
  ]);

  const broken = structuredClone(journey);
  broken.steps['cool-off'] = { id: 'cool-off', type: 'delay', after: 1000, next: 'gone' };
  const entered = decide(broken, undefined, start(), ctx(0));
  const fired = decide(broken, entered.instance, timer(entered.instance), ctx(SEC));
  t.same(summarize(fired.commands).slice(-3), [
    'journal timer.fired delay_elapsed cool-off',
    'journal exited unknown_step gone',
    'instance.end exited unknown_step',
  ]);
  // An instance waiting in a step that is no wait (its version was edited in place).
  const odd = structuredClone(journey);
  odd.steps['cool-off'] = { id: 'cool-off', type: 'exit' };
  const ended = decide(odd, entered.instance, timer(entered.instance), ctx(10 * MIN));
  t.same(summarize(ended.commands), [
    'journal exited unknown_step cool-off',
    'instance.end exited unknown_step',
  ]);
  t.end();
});

void t.test('an archived version ends a waiting instance mid-hold', (t) => {
  const { instance } = play(journey, [[start()], [event('cart_modified', MIN, { cart_id: 'c1' })]]);
  const held = decide(journey, instance, timer(instance), ctx(10 * MIN)).instance;
  t.equal(held?.stepId, 'wait');
  const d = decide(
    journey,
    held,
    { kind: 'archive', id: 'archive:checkout:1', at: T0 + 11 * MIN },
    ctx(11 * MIN),
  );
  t.match(d.instance, { status: 'exited', endReason: 'version_archived', stepId: null });
  t.equal(d.instance?.waitToken, undefined);
  t.same(summarize(d.commands), [
    'journal exited version_archived wait',
    'instance.end exited version_archived',
  ]);
  t.end();
});

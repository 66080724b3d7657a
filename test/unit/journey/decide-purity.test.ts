// decide() never changes the instance it is given: every input below is decided on a deep-frozen
// instance (any write into it throws), across every step type and path, and the decision equals
// the one made on an unfrozen copy.
import t, { type Test } from 'tap';
import {
  decide,
  makeEvent,
  type CompiledJourney,
  type DecideContext,
  type Input,
  type Instance,
} from '../../../libs/journey/index.js';
import { ctxAt, HOUR, journeyFrom, MIN, T0 } from './engine-helpers.js';

const CHECKOUT = `
id: checkout
name: Checkout
trigger: { event: checkout_started, audience: buyers }
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
    lookback: 15m
    branches:
      - { id: modified, event: cart_modified, restart: true }
      - { id: bought, event: purchase_completed, next: thanks }
    timeout: { after: 1h, next: big }
  - id: big
    type: data_split
    branches:
      - { id: large, where: { entry.properties.total: { gte: 100 } }, next: pick }
    else: done
  - id: pick
    type: random_split
    branches:
      - { id: a, weight: 50, next: nudge }
      - { id: b, weight: 50, next: appointment }
  - { id: nudge, type: send, to: [crm], event: Nudge, next: done }
  - { id: appointment, type: delay, until: entry.properties.due_at, offset: -1h, next: done }
  - { id: done, type: exit }
  - { id: thanks, type: send, to: [crm, sink], event: Thanks }
`;

const ONCE = `
id: welcome
name: Welcome
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: hello, type: send, to: [crm], event: Hello, next: pause }
  - { id: pause, type: delay, after: 1d }
`;

const BUYER = { traits: { email: 'ann@example.com' }, audiences: ['buyers'] };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function event(name: string, offset: number, properties: Record<string, unknown> = {}): Input {
  const e = makeEvent({ name, userId: 'u1', at: T0 + offset, properties });
  return { kind: 'event', id: e.messageId, event: e };
}
const timerOf = (instance: Instance | undefined, offset?: number): Input => ({
  kind: 'timer',
  id: `timer:${instance?.waitToken}:${offset ?? ''}`,
  token: String(instance?.waitToken),
  at: offset === undefined ? Number(instance?.waitUntil) : T0 + offset,
});
const archive = (offset: number): Input => ({ kind: 'archive', id: `archive:${offset}`, at: T0 + offset });

type Step = Input | ((current: Instance | undefined) => Input);

/**
 * Decides each input on the deep-frozen current instance, checks the decision equals the one
 * made on an unfrozen copy, and goes on with the decided instance. Returns every journal line.
 */
function play(t: Test, j: CompiledJourney, steps: Step[], over: Partial<DecideContext> = {}): string[] {
  let current: Instance | undefined;
  const lines: string[] = [];
  for (const step of steps) {
    const input = typeof step === 'function' ? step(current) : step;
    const at = input.kind === 'event' ? input.event.receivedAt : input.at;
    const ctx = ctxAt(at, { profile: BUYER, ...over });
    const copy = current === undefined ? undefined : structuredClone(current);
    const frozen = current === undefined ? undefined : deepFreeze(current);
    const decision = decide(j, frozen, input, ctx);
    t.same(decision, decide(j, copy, input, ctx), `${input.kind} ${input.id}: same on a copy`);
    if (frozen !== undefined) t.same(frozen, copy, `${input.kind} ${input.id}: input instance unchanged`);
    for (const c of decision.commands) {
      if (c.kind === 'journal') {
        const r = c.record;
        lines.push([r.type, r.reason, r.stepId, r.branchId].filter((x) => x !== undefined).join(' '));
      }
    }
    current = decision.instance;
  }
  return lines;
}

const checkout = journeyFrom(CHECKOUT, { limits: { maxRestarts: 1 } });
const cart = (offset: number, total = 150, cartId = 'c1') =>
  event('checkout_started', offset, { cart_id: cartId, total, due_at: T0 + 10 * HOUR });

void t.test('hold: restart, restart limit, the bought branch, a two-destination send, end of path', (t) => {
  const lines = play(t, checkout, [
    cart(0),
    (i) => timerOf(i),
    event('cart_modified', 20 * MIN, { cart_id: 'c1' }),
    event('cart_modified', 21 * MIN, { cart_id: 'c1' }),
    event('purchase_completed', 22 * MIN, { cart_id: 'c1' }),
    event('purchase_completed', 23 * MIN, { cart_id: 'c1' }),
  ]);
  t.ok(lines.includes('restarted wait modified'));
  t.ok(lines.includes('refused restart_limit wait modified'));
  t.ok(lines.includes('sent thanks'));
  t.ok(lines.includes('completed end_of_path'));
  t.end();
});

void t.test('lookback: events remembered during the delay are taken when the hold begins', (t) => {
  const lines = play(t, checkout, [
    cart(0),
    event('cart_modified', 1 * MIN, { cart_id: 'c1' }),
    event('purchase_completed', 2 * MIN, { cart_id: 'c1' }),
    (i) => timerOf(i),
  ]);
  t.ok(lines.some((l) => l.startsWith('step lookback wait')));
  t.end();
});

void t.test('timeout, data split, random split, send, delay until and exit step', (t) => {
  const seen = new Set<string>();
  for (let c = 0; c < 8; c++) {
    const lines = play(t, checkout, [
      cart(0, 150, `c${c}`),
      (i) => timerOf(i),
      (i) => timerOf(i),
      (i) => (i?.status === 'active' ? timerOf(i) : archive(20 * HOUR)),
    ]);
    for (const l of lines) seen.add(l);
  }
  for (const l of [
    'branch big large',
    'branch pick a',
    'branch pick b',
    'sent nudge',
    'completed exit_step done',
  ]) {
    t.ok(seen.has(l), l);
  }
  t.end();
});

void t.test('a deadline passed before an event, the else branch and re-entry at the same key', (t) => {
  const lines = play(t, checkout, [
    cart(0, 10),
    event('cart_modified', 3 * HOUR, { cart_id: 'c1' }),
    cart(4 * HOUR, 10),
  ]);
  t.ok(lines.includes('branch big else'));
  t.equal(lines.filter((l) => l === 'entered').length, 2);
  t.end();
});

void t.test('exit rules with their send, refusals, duplicates, stale and early timers, archive', (t) => {
  let waited: Instance | undefined;
  const lines = play(t, checkout, [
    cart(0),
    (i) => ((waited = i), timerOf(i, 1 * MIN)),
    cart(2 * MIN),
    cart(2 * MIN),
    event('order_refunded', 3 * MIN, { cart_id: 'other' }),
    event('account_deleted', 4 * MIN),
    () => timerOf(waited),
    archive(5 * MIN),
  ]);
  for (const l of [
    'ignored early_timer',
    'refused already_entered',
    'exited exit_rule',
    'ignored stale_timer',
  ]) {
    t.ok(
      lines.some((line) => line.startsWith(l)),
      l,
    );
  }
  const archived = play(t, checkout, [cart(0), archive(MIN)]);
  t.ok(archived.includes('exited version_archived cool-off'));
  t.end();
});

void t.test('once: a send, a delay, its end, and the refused re-entry', (t) => {
  const welcome = journeyFrom(ONCE);
  const lines = play(t, welcome, [
    event('signed_up', 0),
    (i) => timerOf(i),
    event('signed_up', 2 * 24 * HOUR),
    event('signed_up', 0),
  ]);
  t.ok(lines.includes('sent hello'));
  t.ok(lines.includes('completed end_of_path'));
  t.ok(lines.includes('refused already_entered'));
  t.end();
});

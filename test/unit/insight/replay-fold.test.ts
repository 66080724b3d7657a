// The replay's fold of journal records into JourneyStats: a simulated run, counted per step.
import t from 'tap';

import { foldJournal } from '../../../libs/insight/replay-fold.js';
import { compile, parseJourney, simulate, type EventSpec } from '../../../libs/journey/index.js';

const DOC = `
id: cart
name: Cart
trigger: { event: checkout_started, where: { properties.currency: USD } }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: again, event: cart_modified, restart: true }
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 1h, next: nudge }
  - { id: nudge, type: send, to: [crm, mail], event: Nudge, next: end }
  - { id: thanks, type: send, to: [crm], event: Thanks, next: end }
  - { id: end, type: exit }
`;

void t.test('entries, refusals, branches, timeouts, sends per destination and the open instances', (t) => {
  const parsed = parseJourney(DOC);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const journey = compile(parsed.journey, { version: 3 });
  const T0 = Date.UTC(2026, 0, 1);
  const e = (at: number, name: string, user: string, props: Record<string, unknown>): EventSpec => ({
    name,
    userId: user,
    at: T0 + at,
    properties: props,
  });
  const events = [
    e(0, 'checkout_started', 'u1', { cart_id: 'a', currency: 'USD' }), // times out: nudge
    e(1, 'checkout_started', 'u2', { cart_id: 'b', currency: 'USD' }), // purchased: thanks
    e(2, 'checkout_started', 'u3', { cart_id: 'c', currency: 'GBP' }), // filter_failed
    e(3, 'cart_modified', 'u2', { cart_id: 'b' }),
    e(4, 'purchase_completed', 'u2', { cart_id: 'b' }),
    e(5, 'checkout_started', 'u1', { cart_id: 'a', currency: 'USD' }), // already_entered
    e(90 * 60_000, 'checkout_started', 'u4', { cart_id: 'd', currency: 'USD' }), // still waiting
  ];
  const until = T0 + 100 * 60_000;
  const timeline = simulate(journey, events, { until });
  const stats = foldJournal(timeline.journal, parsed.journey, {
    version: 3,
    window: { since: T0, until },
    instances: timeline.instances,
  });
  t.equal(stats.entered, 3);
  t.same(stats.refused, { filter_failed: 1, already_entered: 1 });
  t.equal(stats.completed, 2);
  t.equal(stats.active, 1);
  const step = (id: string) => stats.steps.find((s) => s.stepId === id);
  t.same(step('wait'), {
    stepId: 'wait',
    type: 'hold_until',
    entered: 3,
    current: 1,
    branches: { again: 1, purchased: 1, timeout: 1 },
  });
  t.same(step('nudge')?.sends, { crm: { sent: 1, failed: 0 }, mail: { sent: 1, failed: 0 } });
  t.same(step('thanks')?.sends, { crm: { sent: 1, failed: 0 } });
  t.equal(step('end')?.entered, 2);
  const other = foldJournal(timeline.journal, parsed.journey, { version: 2, window: { since: T0, until } });
  t.equal(other.entered, 0, 'records of another version are not counted');
  t.end();
});

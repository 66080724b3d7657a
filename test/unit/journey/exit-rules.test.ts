// Exit rules: at any step (mid-delay, mid-hold), with and without sameKey, with the exit send.
import t from 'tap';
import { simulate, type EventSpec } from '../../../libs/journey/index.js';
import { journalLines, journeyFrom, MIN, T0 } from './engine-helpers.js';

const JOURNEY = `
id: checkout
name: Checkout
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
exit:
  rules:
    - { event: account_deleted }
    - { event: order_refunded, sameKey: true }
    - { event: support_ticket, where: { properties.severity: high } }
  send: { to: [crm], event: Exited, traits: [email, missing_trait] }
events:
  purchase_completed: { carries: [properties.cart_id] }
  order_refunded: { carries: [properties.cart_id] }
steps:
  - { id: cool-off, type: delay, after: 10m }
  - id: wait
    type: hold_until
    branches: [{ id: bought, event: purchase_completed }]
    timeout: { after: 1h, next: nudge }
  - { id: nudge, type: send, to: [crm], event: Nudge }
`;
const journey = journeyFrom(JOURNEY);
const PROFILES = { u1: { traits: { email: 'ann@example.com' }, audiences: [] } };
const started = (cart: string, at = 0): EventSpec => ({
  name: 'checkout_started',
  userId: 'u1',
  at: T0 + at,
  properties: { cart_id: cart },
});

void t.test(
  'an exit rule without sameKey ends every instance of the user, mid-delay, with the exit send',
  (t) => {
    const timeline = simulate(
      journey,
      [
        started('c1'),
        started('c2', MIN),
        { name: 'account_deleted', userId: 'u1', at: T0 + 5 * MIN, properties: { why: 'gdpr' } },
      ],
      { profiles: PROFILES },
    );
    t.same(
      timeline.sends.map((s) => [s.at - T0, s.stepKey.stepId, s.payload.event]),
      [
        [5 * MIN, 'EXIT', 'Exited'],
        [5 * MIN, 'EXIT', 'Exited'],
      ],
    );
    const props = timeline.sends[0]?.payload.properties as Record<string, unknown>;
    t.same(props.email, 'ann@example.com', 'selected traits are read at send time');
    t.notOk('missing_trait' in props, 'an absent trait is dropped');
    t.same(props.journey_context, { checkout_started: { cart_id: 'c1' }, account_deleted: { why: 'gdpr' } });
    t.match(timeline.sends[0]?.deliveryId, /^[0-9a-f]{16}\.EXIT\.1\.crm$/);
    t.same(
      timeline.instances.map((i) => [i.instanceKey, i.status, i.endReason, i.stepId]),
      [
        ['c1', 'exited', 'exit_rule', null],
        ['c2', 'exited', 'exit_rule', null],
      ],
    );
    t.same(
      journalLines(timeline).filter((l) => l.startsWith('exited')),
      ['exited exit_rule cool-off', 'exited exit_rule cool-off'],
    );
    t.same(
      timeline.journal.filter((r) => r.type === 'exited').map((r) => r.detail?.rule),
      [0, 0],
    );
    t.same(
      timeline.timers.map((x) => x.outcome),
      ['stale', 'stale'],
      'the delays’ timers find nothing left to do',
    );
    t.end();
  },
);

void t.test('a sameKey exit rule ends only the instance whose key the event carries, mid-hold', (t) => {
  const timeline = simulate(
    journey,
    [
      started('c1'),
      started('c2'),
      { name: 'order_refunded', userId: 'u1', at: T0 + 20 * MIN, properties: { cart_id: 'c1' } },
      // Without the key, a sameKey rule matches nothing.
      { name: 'order_refunded', userId: 'u1', at: T0 + 21 * MIN, properties: {} },
    ],
    { profiles: PROFILES },
  );
  t.same(
    timeline.sends.map((s) => [
      s.at - T0,
      s.stepKey.stepId,
      (s.payload.properties as { journey_context: object }).journey_context,
    ]),
    [
      [20 * MIN, 'EXIT', { checkout_started: { cart_id: 'c1' }, order_refunded: { cart_id: 'c1' } }],
      [70 * MIN, 'nudge', { checkout_started: { cart_id: 'c2' } }],
    ],
  );
  t.same(
    timeline.instances.map((i) => [i.instanceKey, i.status, i.endReason]),
    [
      ['c1', 'exited', 'exit_rule'],
      ['c2', 'completed', 'end_of_path'],
    ],
  );
  t.equal(timeline.journal.find((r) => r.type === 'exited')?.stepId, 'wait', 'exited from the hold');
  t.equal(timeline.journal.find((r) => r.type === 'exited')?.detail?.rule, 1);
  t.end();
});

void t.test('an exit rule’s where filters the exit event', (t) => {
  const timeline = simulate(
    journey,
    [
      started('c1'),
      { name: 'support_ticket', userId: 'u1', at: T0 + 15 * MIN, properties: { severity: 'low' } },
      { name: 'support_ticket', userId: 'u1', at: T0 + 16 * MIN, properties: { severity: 'high' } },
    ],
    { profiles: PROFILES },
  );
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.stepKey.stepId]),
    [[16 * MIN, 'EXIT']],
  );
  t.equal(timeline.journal.find((r) => r.type === 'exited')?.detail?.rule, 2);
  t.end();
});

void t.test('without an exit send an exit rule only ends the instance; exits win over a hold branch', (t) => {
  const j = journeyFrom(`
id: no-send
name: No exit send
trigger: { event: checkout_started }
entry: { mode: once }
exit: [{ event: purchase_completed, where: { properties.refund: true } }]
steps:
  - id: wait
    type: hold_until
    branches: [{ id: bought, event: purchase_completed, next: thanks }]
    timeout: { after: 1h }
  - { id: thanks, type: send, to: [crm] }
`);
  const timeline = simulate(j, [
    { name: 'checkout_started', userId: 'u1', at: T0 },
    { name: 'purchase_completed', userId: 'u1', at: T0 + MIN, properties: { refund: true } },
    { name: 'checkout_started', userId: 'u2', at: T0 },
    { name: 'purchase_completed', userId: 'u2', at: T0 + MIN, properties: { refund: false } },
  ]);
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.userId, s.stepKey.stepId]),
    [[MIN, 'u2', 'thanks']],
  );
  t.same(
    timeline.instances.map((i) => [i.userKey, i.status, i.endReason]),
    [
      ['u1', 'exited', 'exit_rule'],
      ['u2', 'completed', 'end_of_path'],
    ],
  );
  t.same(journalLines(timeline).slice(0, 6), [
    'entered',
    'step wait',
    'waiting wait',
    'entered',
    'step wait',
    'waiting wait',
  ]);
  t.equal(timeline.journal.filter((r) => r.type === 'exited' && r.userKey === 'u1').length, 1);
  t.end();
});

void t.test('an oversized exit send is journaled as failed and the instance still exits', (t) => {
  const j = journeyFrom(JOURNEY, { limits: { maxPayloadBytes: 300 } });
  const timeline = simulate(
    j,
    [
      started('c1'),
      { name: 'account_deleted', userId: 'u1', at: T0 + MIN, properties: { blob: 'x'.repeat(400) } },
    ],
    { profiles: PROFILES },
  );
  t.same(timeline.sends, []);
  t.same(journalLines(timeline).slice(-3), [
    'send.failed payload_too_large EXIT',
    'exited exit_rule cool-off',
    'ignored stale_timer',
  ]);
  t.match(timeline.journal.find((r) => r.type === 'send.failed')?.detail, { destination: 'crm', limit: 300 });
  t.equal(timeline.instances[0]?.status, 'exited');
  t.end();
});

// Segment's documented use cases (reference/segment-etj.md a.13), each run through the simulator:
// these events in, exactly these sends out.
import t from 'tap';
import { simulate } from '../../../libs/journey/index.js';
import { CART_ABANDONMENT } from './fixtures.js';
import { DAY, HOUR, journalLines, journeyFrom, MIN, sendsOf, T0 } from './engine-helpers.js';

void t.test('real-time forwarding: every submission is sent at once, with the journey context', (t) => {
  const journey = journeyFrom(`
id: form-forwarding
name: Form forwarding
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: messageId }
steps:
  - { id: forward, type: send, to: [crm-webhook, ops-subject], event: Form Submitted, traits: [email, plan] }
`);
  const timeline = simulate(
    journey,
    [
      { name: 'form_submitted', userId: 'u1', at: T0, properties: { form: 'contact' }, messageId: 'm1' },
      {
        name: 'form_submitted',
        userId: 'u1',
        at: T0 + 5 * MIN,
        properties: { form: 'demo' },
        messageId: 'm2',
      },
      { name: 'page', type: 'page', userId: 'u1', at: T0 + 6 * MIN },
    ],
    { profiles: { u1: { traits: { email: 'ann@example.com' }, audiences: [] } } },
  );
  t.same(sendsOf(timeline), [
    [0, 'crm-webhook', 'Form Submitted'],
    [0, 'ops-subject', 'Form Submitted'],
    [5 * MIN, 'crm-webhook', 'Form Submitted'],
    [5 * MIN, 'ops-subject', 'Form Submitted'],
  ]);
  const first = timeline.sends[0];
  t.same(first?.payload, {
    type: 'track',
    event: 'Form Submitted',
    userId: 'u1',
    timestamp: '2025-03-01T09:00:00.000Z',
    messageId: first?.deliveryId,
    properties: {
      email: 'ann@example.com',
      journey_context: { form_submitted: { form: 'contact' } },
      journey_metadata: {
        journey_id: 'form-forwarding',
        journey_version: 1,
        step_id: 'forward',
        instance_id: timeline.instances[0]?.id,
        epoch: 1,
      },
    },
    context: {
      cairn: {
        step_key: { journeyId: 'form-forwarding', version: 1, stepId: 'forward' },
        delivery_id: first?.deliveryId,
      },
    },
  });
  t.equal(first?.deliveryId, `${timeline.instances[0]?.id}.forward.1.crm-webhook`);
  t.same(
    timeline.instances.map((i) => [i.instanceKey, i.status, i.endReason]),
    [
      ['m1', 'completed', 'end_of_path'],
      ['m2', 'completed', 'end_of_path'],
    ],
  );
  t.same(timeline.timers, []);
  t.end();
});

const APPLICATION = `
id: application-abandonment
name: Application abandonment
trigger: { event: application_started }
entry: { mode: every_time, uniqueBy: properties.application_id }
events:
  application_completed: { carries: [properties.application_id] }
steps:
  - id: wait-for-completion
    type: hold_until
    branches:
      - { id: completed, event: application_completed, next: done }
    timeout: { after: 1d, next: nudge }
  - id: nudge
    type: send
    to: [email-webhook]
    event: Application Abandoned
    payload: { application_id: entry.properties.application_id, email: profile.traits.email }
    next: done
  - { id: done, type: exit }
`;

void t.test('application abandonment: two applications of one user run in parallel, keyed by id', (t) => {
  const journey = journeyFrom(APPLICATION);
  const timeline = simulate(
    journey,
    [
      { name: 'application_started', userId: 'u1', at: T0, properties: { application_id: 'A' } },
      { name: 'application_started', userId: 'u1', at: T0 + 10 * MIN, properties: { application_id: 'B' } },
      // Completing A must not touch B, and an unknown application touches nothing.
      { name: 'application_completed', userId: 'u1', at: T0 + 2 * HOUR, properties: { application_id: 'A' } },
      { name: 'application_completed', userId: 'u1', at: T0 + 3 * HOUR, properties: { application_id: 'Z' } },
    ],
    { profiles: { u1: { traits: { email: 'ann@example.com' }, audiences: [] } } },
  );
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.application_id, s.payload.email]),
    [[10 * MIN + DAY, 'B', 'ann@example.com']],
    'exactly one nudge, for B',
  );
  t.same(
    timeline.instances.map((i) => [
      i.instanceKey,
      i.status,
      i.endReason,
      i.context.events.application_completed?.properties,
    ]),
    [
      ['A', 'completed', 'exit_step', { application_id: 'A' }],
      ['B', 'completed', 'exit_step', undefined],
    ],
  );
  t.same(
    timeline.timers.map((x) => [x.at - T0, x.instanceKey, x.outcome]),
    [
      [DAY, 'A', 'stale'],
      [DAY + 10 * MIN, 'B', 'fired'],
    ],
  );
  t.end();
});

void t.test('cart abandonment: each cart_modified pushes the deadline; a purchase wins', (t) => {
  const journey = journeyFrom(CART_ABANDONMENT);
  const cart = (id: string) => ({ cart_id: id, currency: 'USD', channel: 'web' });
  const timeline = simulate(
    journey,
    [
      { name: 'checkout_started', userId: 'u1', at: T0, properties: cart('c1') },
      { name: 'cart_modified', userId: 'u1', at: T0 + 30 * MIN, properties: { cart_id: 'c1', total: 10 } },
      { name: 'cart_modified', userId: 'u1', at: T0 + 80 * MIN, properties: { cart_id: 'c1', total: 12 } },
      { name: 'checkout_started', userId: 'u2', at: T0, properties: cart('c2') },
      { name: 'cart_modified', userId: 'u2', at: T0 + 30 * MIN, properties: { cart_id: 'c2', total: 20 } },
      {
        name: 'purchase_completed',
        userId: 'u2',
        at: T0 + 50 * MIN,
        properties: { cart_id: 'c2', total: 20 },
      },
      // Filtered out: wrong currency; and u3 is not in the audience.
      { name: 'checkout_started', userId: 'u1', at: T0, properties: { ...cart('c9'), currency: 'JPY' } },
      { name: 'checkout_started', userId: 'u3', at: T0, properties: cart('c3') },
    ],
    {
      profiles: {
        u1: { traits: { email: 'u1@example.com' }, audiences: ['high-value'] },
        u2: { traits: { email: 'u2@example.com' }, audiences: ['high-value'] },
      },
    },
  );
  t.same(
    timeline.sends.map((s) => [
      s.at - T0,
      s.stepKey.stepId,
      s.payload.cart_id ?? null,
      s.payload.email ?? null,
    ]),
    [
      [50 * MIN, 'thanks', null, null],
      [80 * MIN + HOUR, 'nudge', 'c1', 'u1@example.com'],
    ],
  );
  const u1 = timeline.instances.find((i) => i.instanceKey === 'c1');
  t.equal(u1?.restarts['wait-for-purchase'], 2);
  t.same(u1?.context.events['cart_modified - cart-updated']?.properties, { cart_id: 'c1', total: 12 });
  t.same(
    timeline.refusals.map((r) => [r.userKey, r.reason]),
    [
      ['u1', 'filter_failed'],
      ['u3', 'audience_missing'],
    ],
  );
  t.same(
    timeline.timers.map((x) => [x.at - T0, x.instanceKey, x.outcome]),
    [
      [HOUR, 'c1', 'stale'],
      [HOUR, 'c2', 'stale'],
      [30 * MIN + HOUR, 'c1', 'stale'],
      [30 * MIN + HOUR, 'c2', 'stale'],
      [80 * MIN + HOUR, 'c1', 'fired'],
    ],
  );
  t.end();
});

const BROWSE = `
id: browse-abandonment
name: Browse abandonment
trigger: { event: product_viewed }
entry: { mode: every_time, uniqueBy: properties.product_id }
events:
  product_added: { carries: [properties.product_id] }
  checkout_started: { carries: [properties.product_id] }
steps:
  - id: wait-for-cart
    type: hold_until
    branches: [{ id: added, event: product_added, next: wait-for-checkout }]
    timeout: { after: 1h, next: browse-nudge }
  - id: wait-for-checkout
    type: hold_until
    branches: [{ id: checked-out, event: checkout_started, next: done }]
    timeout: { after: 2h, next: cart-nudge }
  - { id: browse-nudge, type: send, to: [email], event: Browse Abandoned, next: done }
  - { id: cart-nudge, type: send, to: [email], event: Cart Reminder, next: done }
  - { id: done, type: exit }
`;

void t.test('browse abandonment: chained holds, each with its own timeout', (t) => {
  const journey = journeyFrom(BROWSE);
  const p = (id: string) => ({ product_id: id });
  const timeline = simulate(journey, [
    { name: 'product_viewed', userId: 'u1', at: T0, properties: p('p1') },
    { name: 'product_viewed', userId: 'u2', at: T0, properties: p('p2') },
    { name: 'product_added', userId: 'u2', at: T0 + 20 * MIN, properties: p('p2') },
    { name: 'product_viewed', userId: 'u3', at: T0, properties: p('p3') },
    { name: 'product_added', userId: 'u3', at: T0 + 20 * MIN, properties: p('p3') },
    { name: 'checkout_started', userId: 'u3', at: T0 + 40 * MIN, properties: p('p3') },
  ]);
  t.same(sendsOf(timeline), [
    [HOUR, 'email', 'Browse Abandoned'],
    [20 * MIN + 2 * HOUR, 'email', 'Cart Reminder'],
  ]);
  t.same(
    timeline.sends.map((s) =>
      Object.keys((s.payload.properties as { journey_context: object }).journey_context),
    ),
    [['product_viewed'], ['product_viewed', 'product_added', 'product_added - added']],
    'the second nudge carries the event the first hold captured, by name and alias',
  );
  t.same(
    timeline.instances.map((i) => [i.userKey, i.status, i.endReason]),
    [
      ['u1', 'completed', 'exit_step'],
      ['u2', 'completed', 'exit_step'],
      ['u3', 'completed', 'exit_step'],
    ],
  );
  t.end();
});

const RE_ENGAGEMENT = `
id: re-engagement
name: Re-engagement
trigger: { event: subscription_paused }
entry: { mode: once }
exit: [{ event: subscription_resumed }]
steps:
  - { id: wait-3d, type: delay, after: 3d }
  - { id: nudge-1, type: send, to: [email], event: We Miss You }
  - { id: wait-7d, type: delay, after: 7d }
  - { id: nudge-2, type: send, to: [email], event: Come Back Offer }
  - { id: wait-14d, type: delay, after: 14d }
  - { id: nudge-3, type: send, to: [email], event: Last Call }
`;

void t.test('re-engagement: nudges at intervals until the user comes back', (t) => {
  const journey = journeyFrom(RE_ENGAGEMENT);
  const timeline = simulate(journey, [
    { name: 'subscription_paused', userId: 'u1', at: T0 },
    { name: 'subscription_paused', userId: 'u2', at: T0 },
    { name: 'subscription_resumed', userId: 'u2', at: T0 + 5 * DAY },
  ]);
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.userId, s.payload.event]),
    [
      [3 * DAY, 'u1', 'We Miss You'],
      [3 * DAY, 'u2', 'We Miss You'],
      [10 * DAY, 'u1', 'Come Back Offer'],
      [24 * DAY, 'u1', 'Last Call'],
    ],
  );
  t.same(
    timeline.instances.map((i) => [i.userKey, i.status, i.endReason]),
    [
      ['u1', 'completed', 'end_of_path'],
      ['u2', 'exited', 'exit_rule'],
    ],
  );
  t.same(
    timeline.timers.map((x) => [x.at - T0, x.userKey, x.outcome]),
    [
      [3 * DAY, 'u1', 'fired'],
      [3 * DAY, 'u2', 'fired'],
      [10 * DAY, 'u1', 'fired'],
      [10 * DAY, 'u2', 'stale'],
      [24 * DAY, 'u1', 'fired'],
    ],
  );
  t.end();
});

const TRIAL = `
id: trial-flow
name: Trial flow
trigger: { event: Account_Created }
entry: { mode: once }
steps:
  - id: wait-payment
    type: hold_until
    branches: [{ id: payment-added, event: Payment_Method, next: wait-trial }]
    timeout: { after: 3d, next: payment-reminder }
  - { id: payment-reminder, type: send, to: [email], event: Add Payment Method, next: done }
  - id: wait-trial
    type: hold_until
    branches: [{ id: trial-started, event: trial_started, next: wait-trial-end }]
    timeout: { after: 1d, next: done }
  - id: wait-trial-end
    type: hold_until
    branches: [{ id: trial-ended, event: trial_ended, next: wait-subscription }]
    timeout: { after: 30d, next: done }
  - id: wait-subscription
    type: hold_until
    branches: [{ id: subscribed, event: subscription_started, next: welcome }]
    timeout: { after: 2d, next: win-back }
  - { id: win-back, type: send, to: [email], event: Trial Win Back, next: done }
  - id: welcome
    type: send
    to: [email]
    payload:
      plan: events.subscription_started.properties.plan
      trial_days: events.trial-started.properties.days
      account: entry.properties.account_id
    next: done
  - { id: done, type: exit }
`;

void t.test('multi-step trial flow: Account_Created -> Payment_Method -> trial -> subscription', (t) => {
  const journey = journeyFrom(TRIAL);
  const flow = (user: string, names: string[]) =>
    names.map((name, i) => ({
      name,
      userId: user,
      at: T0 + i * HOUR,
      properties: { account_id: `acct-${user}`, plan: 'pro', days: 14 },
    }));
  const timeline = simulate(journey, [
    ...flow('u1', [
      'Account_Created',
      'Payment_Method',
      'trial_started',
      'trial_ended',
      'subscription_started',
    ]),
    ...flow('u2', ['Account_Created', 'Payment_Method', 'trial_started', 'trial_ended']),
    ...flow('u3', ['Account_Created']),
  ]);
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.payload.userId ?? s.payload.account, s.stepKey.stepId]),
    [
      [3 * DAY, 'u3', 'payment-reminder'],
      [4 * HOUR, 'acct-u1', 'welcome'],
      [3 * HOUR + 2 * DAY, 'u2', 'win-back'],
    ].sort((a, b) => Number(a[0]) - Number(b[0])),
  );
  const welcome = timeline.sends.find((s) => s.stepKey.stepId === 'welcome');
  t.same(welcome?.payload, {
    plan: 'pro',
    trial_days: 14,
    account: 'acct-u1',
    _cairn: {
      step_key: { journeyId: 'trial-flow', version: 1, stepId: 'welcome' },
      delivery_id: welcome?.deliveryId,
    },
  });
  t.same(
    journalLines(timeline).filter((l) => l.startsWith('branch')),
    [
      'branch wait-payment payment-added',
      'branch wait-payment payment-added',
      'branch wait-trial trial-started',
      'branch wait-trial trial-started',
      'branch wait-trial-end trial-ended',
      'branch wait-trial-end trial-ended',
      'branch wait-subscription subscribed',
    ],
  );
  t.end();
});

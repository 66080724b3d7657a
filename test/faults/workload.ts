// The fault suite's workload: users arriving in waves over a few tens of seconds, each through
// three journeys — cart abandonment (a hold: thanks on purchase, nudge on timeout), onboarding (a
// delay, then a data split and a random split to one of three sends) and form forwarding (an
// immediate send) — published as a producer would, retrying a publish until it is acked. The
// simulator, fed the same events at the instants they were published, is the oracle.
import type { Bus } from '../../libs/bus/index.js';
import type { JourneyDocument, Timeline } from '../../libs/journey/index.js';
import { journey, oracle, type ProducerEvent } from '../helpers/pipeline.js';
import { sleep } from './world.js';

export const HOLD_MS = 8_000;
export const DELAY_MS = 4_000;
/** The simulator's clock starts here (test/helpers/pipeline.ts `oracle`). */
const SIM_START = Date.UTC(2026, 0, 1);

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
    timeout: { after: ${HOLD_MS / 1000}s, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Cart Abandoned
    payload: { cart_id: entry.properties.cart_id, email: profile.traits.email }
    next: end
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

const ONBOARD = `
id: onboard
name: Onboarding
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: settle, type: delay, after: ${DELAY_MS / 1000}s, next: route }
  - id: route
    type: data_split
    branches:
      - { id: pro, where: { entry.properties.plan: pro }, next: pro-welcome }
    else: ab
  - id: ab
    type: random_split
    branches:
      - { id: a, weight: 50, next: welcome-a }
      - { id: b, weight: 50, next: welcome-b }
  - { id: pro-welcome, type: send, to: [sink], event: Pro Welcome, next: end }
  - { id: welcome-a, type: send, to: [sink], event: Welcome A, next: end }
  - { id: welcome-b, type: send, to: [sink], event: Welcome B, next: end }
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

export const JOURNEYS: JourneyDocument[] = [CART, ONBOARD, FORWARD].map(journey);

/** The step a delivery is for, from its id `<instance>.<step>.<visit>.<destination>`. */
export function stepOfDelivery(id: string): string {
  const parts = id.split('.');
  return parts[parts.length - 3] ?? '?';
}

/** The steps that run on a timer: their delivery is due at a deadline, never before. */
export const TIMED_STEPS = new Set(['nudge', 'pro-welcome', 'welcome-a', 'welcome-b']);

export interface Published {
  event: ProducerEvent;
  /** Date.now() when the producer first tried to publish it (<= its receive time). */
  calledAt: number;
  /** Date.now() when the publish was acked (>= its receive time). */
  ackedAt: number;
}

export interface Workload {
  users: number;
  t0: number;
  published: Published[];
  /** Resolves once every wave is published and acked. */
  done: Promise<void>;
  /** The end of the publishing, once done. */
  endedAt(): number;
}

function userEvents(i: number): { now: ProducerEvent[]; later: ProducerEvent[] } {
  const userId = `u${i}`;
  const track = (n: string, event: string, properties: Record<string, unknown>): ProducerEvent => [
    'track',
    { userId, messageId: `${userId}-${n}`, event, properties },
  ];
  return {
    now: [
      ['identify', { userId, messageId: `${userId}-id`, traits: { email: `${userId}@example.com` } }],
      track('form', 'form_submitted', { form_id: 'f' }),
      track('cart', 'checkout_started', { cart_id: 'c' }),
      track('signup', 'signed_up', { plan: i % 4 === 0 ? 'pro' : 'free' }),
    ],
    // Two users in three buy, a second after the checkout: long before the hold's deadline.
    later: i % 3 === 2 ? [] : [track('buy', 'purchase_completed', { cart_id: 'c' })],
  };
}

async function publishAcked(bus: Bus, [type, body]: ProducerEvent): Promise<void> {
  for (;;) {
    try {
      await bus.js.publish(`events.${type}`, JSON.stringify({ type, ...body }), { timeout: 3_000 });
      return;
    } catch {
      // A producer retries until the bus acks (ingest drops a repeated messageId).
      await sleep(200);
    }
  }
}

/**
 * Publishes `users` users in waves every 250 ms over `spreadMs`: a wave's users identify, submit a
 * form, start a checkout and sign up; the purchases of a wave go out four waves (1 s) later.
 * A user's events are published one after the other (their order is the stream's order).
 */
export function startWorkload(bus: Bus, users: number, spreadMs: number): Workload {
  const waveMs = 250;
  const waves = Math.max(1, Math.floor(spreadMs / waveMs));
  const perWave = Math.ceil(users / waves);
  const published: Published[] = [];
  const t0 = Date.now();
  let endedAt = 0;
  const publishUser = async (events: ProducerEvent[]): Promise<void> => {
    for (const event of events) {
      const calledAt = Date.now();
      const entry: Published = { event, calledAt, ackedAt: 0 };
      published.push(entry);
      await publishAcked(bus, event);
      entry.ackedAt = Date.now();
    }
  };
  const later = new Map<number, ProducerEvent[][]>();
  const done = (async () => {
    for (let w = 0; w < waves + 4; w++) {
      const due = t0 + w * waveMs;
      if (due > Date.now()) await sleep(due - Date.now());
      const batch: ProducerEvent[][] = [...(later.get(w) ?? [])];
      later.delete(w);
      for (let i = w * perWave; i < Math.min(users, (w + 1) * perWave); i++) {
        const { now, later: then } = userEvents(i);
        batch.push(now);
        if (then.length > 0) later.set(w + 4, [...(later.get(w + 4) ?? []), then]);
      }
      await Promise.all(batch.map(publishUser));
    }
    endedAt = Date.now();
  })();
  return { users, t0, published, done, endedAt: () => endedAt };
}

export interface Expectation {
  timeline: Timeline;
  /** Delivery id -> the instant (real time) it is due: its trigger's publish, or its deadline. */
  dueAt: Map<string, number>;
  /** Delivery id -> the user it is for. */
  userOf: Map<string, string>;
  /** Purchases that may have been received after their hold's deadline (the producer was held up
   * by the fault): either a thanks or a nudge is right for these users' carts. */
  ambiguous: Set<string>;
}

/** The simulator over the events, each at the instant the producer called publish. */
export function expect(workload: Workload): Expectation {
  const events = workload.published.map((p) => p.event);
  const offsets = workload.published.map((p) => p.calledAt - workload.t0);
  const timeline = oracle(JOURNEYS, events, offsets);
  const instanceUser = new Map(timeline.instances.map((i) => [i.id, i.userKey]));
  const dueAt = new Map<string, number>();
  const userOf = new Map<string, string>();
  for (const s of timeline.sends) {
    dueAt.set(s.deliveryId, workload.t0 + (s.at - SIM_START));
    userOf.set(s.deliveryId, instanceUser.get(s.deliveryId.split('.')[0] ?? '') ?? '?');
  }
  const checkout = new Map<string, Published>();
  const ambiguous = new Set<string>();
  for (const p of workload.published) {
    const body = p.event[1];
    const user = String(body['userId']);
    if (body['event'] === 'checkout_started') checkout.set(user, p);
    if (body['event'] === 'purchase_completed') {
      const c = checkout.get(user);
      if (c && p.ackedAt >= c.calledAt + HOLD_MS - 500) ambiguous.add(user);
    }
  }
  return { timeline, dueAt, userOf, ambiguous };
}

// Shared by the stats tests: a journey with a hold (a branch, a restart branch, a timeout), a data
// split and sends; a mix of users' events that takes every way through it; the simulator's
// journal of the same events folded into the stats that `readJourneyStats` must return.
import { BUCKETS, STREAMS, type Bus } from '../../libs/bus/index.js';
import { foldJournal, journeyStatsOf, readCheckpoint, type JourneyStats } from '../../libs/insight/index.js';
import {
  compile,
  makeEvent,
  simulate,
  type JournalRecord,
  type JourneyDocument,
} from '../../libs/journey/index.js';
import { journey, type ProducerEvent } from './pipeline.js';

export const HOLD_S = 3;

export const STATS_JOURNEY = `
id: checkout
name: Checkout follow-up
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
exit:
  - { event: order_refunded, sameKey: true }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
      - { id: updated, event: cart_modified, restart: true }
    timeout: { after: ${HOLD_S}s, next: size }
  - id: size
    type: data_split
    branches:
      - { id: big, where: { entry.properties.total: { gte: 100 } }, next: big-nudge }
    else: nudge
  - { id: nudge, type: send, to: [sink], event: Cart Abandoned, next: end }
  - { id: big-nudge, type: send, to: [sink], event: Big Cart Abandoned, next: end }
  - { id: thanks, type: send, to: [sink], event: Thanks, next: cool-down }
  - { id: cool-down, type: delay, after: 1h }
  - { id: end, type: exit }
`;

export const statsJourney = (): JourneyDocument => journey(STATS_JOURNEY);

/**
 * Events of `users` users, each on its own cart: a third buy, a third have the order refunded
 * mid-hold (an exit), the rest time out; every fourth starts the same checkout twice (refused:
 * already entered), every fifth modifies the cart first (a restart); odd users' carts are big.
 */
export function statsEvents(users: number, prefix = 'user'): ProducerEvent[] {
  const out: ProducerEvent[] = [];
  for (let i = 0; i < users; i++) {
    const userId = `${prefix}-${i}`;
    const cart = { cart_id: `c-${i}` };
    const track = (n: string, event: string, properties: Record<string, unknown> = cart): void => {
      out.push(['track', { userId, messageId: `${userId}-${n}`, event, properties }]);
    };
    track('start', 'checkout_started', { ...cart, total: i % 2 === 1 ? 150 : 20 });
    if (i % 4 === 0) track('again', 'checkout_started', { ...cart, total: 1 });
    if (i % 5 === 0) track('modified', 'cart_modified');
    if (i % 3 === 0) track('bought', 'purchase_completed');
    if (i % 3 === 1) track('refunded', 'order_refunded');
  }
  return out;
}

/** The simulator's journal of `events` for version `version` of `doc`, the i-th event received
 * at `atOf(i)`, timers run up to `until`. */
export function simulatedJournal(
  doc: JourneyDocument,
  events: ProducerEvent[],
  atOf: (i: number) => number,
  until: number,
  version = 1,
): JournalRecord[] {
  return simulate(
    compile(doc, { version }),
    events.map(([type, body], i) =>
      makeEvent({
        type,
        name: String(body['event']),
        userId: String(body['userId']),
        messageId: String(body['messageId']),
        properties: (body['properties'] as Record<string, unknown>) ?? {},
        at: atOf(i),
      }),
    ),
    { until },
  ).journal;
}

/** What the simulator counts for the same events (timers up to a minute after the first event). */
export function expectedStats(doc: JourneyDocument, events: ProducerEvent[], now: number): JourneyStats {
  const start = Date.UTC(2026, 0, 1);
  const journal = simulatedJournal(doc, events, (i) => start + i, start + 60_000);
  const counters = foldJournal(journal).get(`${doc.id}.v1`);
  return journeyStatsOf(counters, { journeyId: doc.id, version: 1, shadow: false, doc, until: now });
}

/** The stats without the read time (which differs between two reads). */
export function countsOf(s: JourneyStats): Omit<JourneyStats, 'window'> {
  const { window: _window, ...rest } = s;
  return rest;
}

/** Whether the projection has committed everything JOURNAL holds. */
export async function projectionCaughtUp(bus: Bus): Promise<boolean> {
  const last = (await bus.jsm.streams.info(STREAMS.JOURNAL)).state.last_seq;
  return last > 0 && (await readCheckpoint(await bus.store(BUCKETS.stats))) >= last;
}

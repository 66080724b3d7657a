// Scenario 3: N users start checkouts; 70 % complete within the hold, 30 % time out and get a
// nudge. The deliveries are checked against the simulator fed the same events.
import { STREAMS, type Bus } from '../../libs/bus/index.js';
import { compile, makeEvent, simulate, type JourneyDocument } from '../../libs/journey/index.js';
import { addWebhook, publishJourneys, startCairn, startRig } from '../cairn.js';
import { waitFor } from '../env.js';
import { publishAll } from '../load.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';
import { startSink } from '../sink.js';
import { round } from '../stats.js';

const cart = (hold: string): string => `
id: cart
name: Cart abandonment
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: end }
    timeout: { after: ${hold}, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Cart Abandoned
    payload: { cart_id: entry.properties.cart_id }
    next: end
  - { id: end, type: exit }
`;

interface Ev {
  type: 'track';
  event: string;
  userId: string;
  messageId: string;
  properties: Record<string, unknown>;
}

function events(users: number): Ev[] {
  const out: Ev[] = [];
  for (let i = 0; i < users; i++)
    out.push({
      type: 'track',
      event: 'checkout_started',
      userId: `a${i}`,
      messageId: `a${i}-start`,
      properties: { cart_id: `c${i}` },
    });
  for (let i = 0; i < users; i++)
    if (i % 10 < 7)
      out.push({
        type: 'track',
        event: 'purchase_completed',
        userId: `a${i}`,
        messageId: `a${i}-buy`,
        properties: { cart_id: `c${i}` },
      });
  return out;
}

/** The delivery ids the simulator predicts for these events (received 1 ms apart, in order). */
function expectedDeliveries(doc: JourneyDocument, evs: Ev[]): string[] {
  const start = Date.UTC(2026, 0, 1);
  const timeline = simulate(
    [compile(doc, { version: 1 })],
    evs.map((e, i) =>
      makeEvent({
        type: 'track',
        name: e.event,
        userId: e.userId,
        messageId: e.messageId,
        properties: e.properties,
        at: start + i,
      }),
    ),
  );
  return timeline.sends.map((s) => s.deliveryId).sort();
}

/** True once ingest has routed everything and the matcher has applied everything (false while
 * the server is too busy to answer). */
async function drained(bus: Bus): Promise<boolean> {
  try {
    const ingest = await bus.jsm.consumers.info(STREAMS.EVENTS, 'ingest');
    if (ingest.num_pending + ingest.num_ack_pending > 0) return false;
    const match = await bus.jsm.streams.info(STREAMS.MATCH);
    return match.state.messages === 0;
  } catch {
    return false;
  }
}

export async function abandonment(o: BenchOptions): Promise<ScenarioResult> {
  const users = o.quick ? 500 : 5_000;
  const hold = o.quick ? '3s' : '30s';
  const rig = await startRig();
  const sink = await startSink({ keepBodies: true });
  try {
    await addWebhook(rig.bus, 'sink', `${sink.url}/hook`);
    const [doc] = await publishJourneys(rig.bus, cart(hold));
    const evs = events(users);
    const expected = expectedDeliveries(doc!, evs);
    const worker = await startCairn(rig, undefined, o.cpuProfDir);
    try {
      o.note(`abandonment: ${users} users, ${evs.length} events, hold ${hold}`);
      const t0 = Date.now();
      const publishMs = await publishAll(rig.bus.js, evs.length, (i) => ({
        subject: 'events.track',
        data: JSON.stringify(evs[i]),
      }));
      await waitFor(() => drained(rig.bus), 600_000, 200);
      const eventsDoneMs = Date.now() - t0;
      const arrived = await waitFor(() => sink.count >= expected.length, 600_000, 50);
      const endToEndMs = Date.now() - t0;
      // Anything extra (a wrong nudge, a duplicate) would arrive just after: give it a moment.
      await waitFor(() => sink.count > expected.length, 2_000, 50);
      const got = [...sink.ids].sort();
      const expectedSet = new Set(expected);
      const gotSet = new Set(got);
      const missing = expected.filter((id) => !gotSet.has(id)).length;
      const unexpected = got.filter((id) => !expectedSet.has(id)).length;
      const duplicates = got.length - gotSet.size;
      const correct = arrived && missing === 0 && unexpected === 0 && duplicates === 0;
      const eventsPerSec = Math.round((evs.length * 1_000) / eventsDoneMs);
      return {
        name: 'abandonment',
        figure: eventsPerSec,
        unit: 'events/s',
        extra: `${users} users, ${got.length}/${expected.length} nudges ${correct ? 'exactly as the simulator predicts' : `WRONG (${missing} missing, ${unexpected} unexpected, ${duplicates} duplicates)`}, end-to-end ${round(endToEndMs / 1_000)} s (hold ${hold})`,
        target: { text: 'deliveries exactly as the simulator predicts', met: correct },
        details: {
          users,
          events: evs.length,
          hold,
          publishMs,
          eventsDoneMs,
          endToEndMs,
          expected: expected.length,
          delivered: got.length,
          missing,
          unexpected,
          duplicates,
          worker: await worker.stats(),
        },
      };
    } finally {
      await worker.stop();
    }
  } finally {
    await sink.close();
    await rig.close();
  }
}

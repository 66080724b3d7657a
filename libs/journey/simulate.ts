// The simulator: the same decide() over an in-memory store and a virtual clock. Events run in
// receive-time order, timers at their instant (an event and a timer at one instant: the event
// first), identify events merge traits into the profile. What it returns is what the services
// would publish, so `cairn simulate` and tests can read a journey's behaviour off a timeline.
// The engine is simulator.ts (one input at a time); this collects its output as a timeline.
import { toEvent, type EventSpec } from './sim-events.js';
import { Simulator, type SimulatedSend, type SimulatedTimer } from './simulator.js';
import type { CompiledJourney, Instance, Instant, JournalRecord, NormalizedEvent, Profile } from './types.js';

export { makeEvent, SimulationError, type EventSpec } from './sim-events.js';
export {
  Simulator,
  type SimulatedSend,
  type SimulatedTimer,
  type SimulatorHooks,
  type SimulatorOptions,
} from './simulator.js';

export interface SimulateOptions {
  /** Profiles by user key (traits, audiences) at the start. */
  profiles?: Record<string, Profile>;
  /** Events received before this instant are skipped. */
  start?: Instant;
  /** The clock stops here: later events are skipped, later timers stay pending. */
  until?: Instant;
}

export interface TimelineEntry {
  at: Instant;
  journeyId: string;
  version: number;
  userKey: string;
  instanceKey: string;
  instanceId: string;
  epoch: number;
}

export type TimelineTimer = SimulatedTimer;
export type TimelineSend = SimulatedSend;

export interface Timeline {
  entries: TimelineEntry[];
  journal: JournalRecord[];
  timers: TimelineTimer[];
  sends: TimelineSend[];
  refusals: JournalRecord[];
  /** Every instance at the end, ordered by journey, user and key. */
  instances: Instance[];
}

function collector(timeline: Timeline) {
  return {
    journal(record: JournalRecord): void {
      timeline.journal.push(record);
      if (record.type === 'refused') timeline.refusals.push(record);
      if (record.type === 'entered' && record.instanceId !== undefined && record.instanceKey !== undefined) {
        timeline.entries.push({
          at: record.at,
          journeyId: record.journeyId,
          version: record.version,
          userKey: record.userKey,
          instanceKey: record.instanceKey,
          instanceId: record.instanceId,
          epoch: Number(record.detail?.epoch),
        });
      }
    },
    send: (send: TimelineSend) => void timeline.sends.push(send),
    timer: (timer: TimelineTimer) => void timeline.timers.push(timer),
  };
}

/**
 * Runs journeys over events with a virtual clock and returns what happened. Pure and
 * deterministic: the same inputs give a byte-identical timeline.
 */
export function simulate(
  journeys: CompiledJourney | CompiledJourney[],
  events: ReadonlyArray<NormalizedEvent | EventSpec>,
  opts: SimulateOptions = {},
): Timeline {
  const list = Array.isArray(journeys) ? journeys : [journeys];
  const timeline: Timeline = { entries: [], journal: [], timers: [], sends: [], refusals: [], instances: [] };
  const sim = new Simulator(list, collector(timeline), opts.profiles ? { profiles: opts.profiles } : {});
  const normalized = events
    .map(toEvent)
    .filter(
      (e) =>
        (opts.start === undefined || e.receivedAt >= opts.start) &&
        (opts.until === undefined || e.receivedAt <= opts.until),
    )
    // A stable sort: events received at one instant keep their given order.
    .sort((a, b) => a.receivedAt - b.receivedAt);
  for (const event of normalized) {
    sim.fireUntil(event.receivedAt);
    sim.event(event);
  }
  if (opts.until === undefined) sim.fireUntil(Infinity);
  else sim.fireUntil(opts.until, true);
  timeline.timers.push(...sim.pendingTimers());
  timeline.instances = sim.sortedInstances();
  return timeline;
}

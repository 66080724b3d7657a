// The simulator: the same decide() over an in-memory store and a virtual clock. Events run in
// receive-time order, timers at their instant (an event and a timer at one instant: the event
// first), identify events merge traits into the profile. What it returns is what the services
// would publish, so `cairn simulate` and tests can read a journey's behaviour off a timeline.
import { buildEventIndex } from './compile.js';
import { eventInstanceKey } from './context.js';
import { decide } from './decide.js';
import { EngineCodes } from './engine-codes.js';
import { SimulationError, toEvent, type EventSpec } from './sim-events.js';
import type {
  CompiledJourney,
  Decision,
  Input,
  Instance,
  Instant,
  JournalRecord,
  NormalizedEvent,
  Profile,
  StepKey,
} from './types.js';

export { makeEvent, SimulationError, type EventSpec } from './sim-events.js';

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

export interface TimelineTimer {
  at: Instant;
  token: string;
  journeyId: string;
  userKey: string;
  instanceKey: string;
  outcome: 'fired' | 'stale' | 'pending';
}

export interface TimelineSend {
  at: Instant;
  deliveryId: string;
  destination: string;
  payload: Record<string, unknown>;
  stepKey: StepKey;
}

export interface Timeline {
  entries: TimelineEntry[];
  journal: JournalRecord[];
  timers: TimelineTimer[];
  sends: TimelineSend[];
  refusals: JournalRecord[];
  /** Every instance at the end, ordered by journey, user and key. */
  instances: Instance[];
}

interface PendingTimer {
  at: Instant;
  seq: number;
  token: string;
  journeyId: string;
  userKey: string;
  instanceKey: string;
}

const SEP = '\u0000';

class Simulation {
  readonly timeline: Timeline = {
    entries: [],
    journal: [],
    timers: [],
    sends: [],
    refusals: [],
    instances: [],
  };
  private readonly journeys = new Map<string, CompiledJourney>();
  private readonly index: Map<string, CompiledJourney[]>;
  private readonly store = new Map<string, Instance>();
  /** journey + user -> instance keys, and user -> store keys (for per-user counts). */
  private readonly keysOf = new Map<string, Set<string>>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly profiles = new Map<string, Profile>();
  private readonly lastSecond = new Map<string, Instant[]>();
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(list: CompiledJourney[], profiles: Record<string, Profile>) {
    for (const journey of list) {
      if (this.journeys.has(journey.id)) {
        throw new SimulationError(`journey '${journey.id}' is given twice`, EngineCodes.DUPLICATE_JOURNEY);
      }
      this.journeys.set(journey.id, journey);
    }
    this.index = buildEventIndex(list);
    for (const [userKey, profile] of Object.entries(profiles))
      this.profiles.set(userKey, structuredClone(profile));
  }

  run(events: NormalizedEvent[], until: Instant | undefined): void {
    let next = 0;
    for (;;) {
      const event = events[next];
      const timer = this.timers[0];
      if (timer && (event === undefined || timer.at < event.receivedAt)) {
        if (until !== undefined && timer.at > until) break;
        this.timers.shift();
        this.fire(timer);
      } else if (event) {
        next++;
        this.onEvent(event);
      } else break;
    }
    for (const t of this.timers) this.timeline.timers.push({ ...this.timerView(t), outcome: 'pending' });
    this.timeline.instances = [...this.store.keys()].sort().map((k) => this.store.get(k) as Instance);
  }

  private profileOf(userKey: string): Profile {
    let profile = this.profiles.get(userKey);
    if (!profile) {
      profile = { traits: {}, audiences: [] };
      this.profiles.set(userKey, profile);
    }
    return profile;
  }

  private activeInstances(userKey: string): number {
    let count = 0;
    for (const key of this.byUser.get(userKey) ?? []) if (this.store.get(key)?.status === 'active') count++;
    return count;
  }

  private onEvent(event: NormalizedEvent): void {
    const now = event.receivedAt;
    const profile = this.profileOf(event.userKey);
    if (event.type === 'identify') Object.assign(profile.traits, event.traits);
    const times = (this.lastSecond.get(event.userKey) ?? []).filter((t) => t > now - 1000);
    const eventsLastSecond = times.length;
    this.lastSecond.set(event.userKey, [...times, now]);
    const input: Input = { kind: 'event', id: event.messageId, event };
    for (const journey of this.index.get(event.name) ?? []) {
      const key = eventInstanceKey(journey.doc, event);
      const own = this.keysOf.get(journey.id + SEP + event.userKey) ?? new Set<string>();
      // The instance the event's key addresses (maybe none yet), then the user's other active
      // instances, which only exit rules without sameKey can touch.
      const targets: Array<string | undefined> = [key];
      if (journey.index[event.name]?.exits.length) {
        for (const other of own) if (other !== key) targets.push(other);
      }
      for (const instanceKey of targets) {
        const instance =
          instanceKey === undefined ? undefined : this.get(journey.id, event.userKey, instanceKey);
        if (instanceKey !== key && instance?.status !== 'active') continue;
        const ctx = {
          now,
          profile,
          user: { activeInstances: this.activeInstances(event.userKey), eventsLastSecond },
          acceptsEntries: true,
        };
        this.apply(decide(journey, instance, input, ctx), now);
      }
    }
  }

  private fire(timer: PendingTimer): void {
    // Timers come from commands of known journeys only.
    const journey = this.journeys.get(timer.journeyId) as CompiledJourney;
    const instance = this.get(timer.journeyId, timer.userKey, timer.instanceKey);
    const live = instance?.status === 'active' && instance.waitToken === timer.token;
    this.timeline.timers.push({ ...this.timerView(timer), outcome: live ? 'fired' : 'stale' });
    const ctx = {
      now: timer.at,
      profile: this.profileOf(timer.userKey),
      user: { activeInstances: this.activeInstances(timer.userKey), eventsLastSecond: 0 },
      acceptsEntries: true,
    };
    const input: Input = { kind: 'timer', id: `timer:${timer.token}`, token: timer.token, at: timer.at };
    this.apply(decide(journey, instance, input, ctx), timer.at);
  }

  private get(journeyId: string, userKey: string, instanceKey: string): Instance | undefined {
    return this.store.get(journeyId + SEP + userKey + SEP + instanceKey);
  }

  private timerView(t: PendingTimer): Omit<TimelineTimer, 'outcome'> {
    return {
      at: t.at,
      token: t.token,
      journeyId: t.journeyId,
      userKey: t.userKey,
      instanceKey: t.instanceKey,
    };
  }

  private put(instance: Instance): void {
    const storeKey = instance.journeyId + SEP + instance.userKey + SEP + instance.instanceKey;
    this.store.set(storeKey, instance);
    const journeyUser = instance.journeyId + SEP + instance.userKey;
    const keys = this.keysOf.get(journeyUser) ?? new Set<string>();
    keys.add(instance.instanceKey);
    this.keysOf.set(journeyUser, keys);
    const mine = this.byUser.get(instance.userKey) ?? new Set<string>();
    mine.add(storeKey);
    this.byUser.set(instance.userKey, mine);
  }

  /** Stores the instance and plays the commands; a duplicate's were published already. */
  private apply(decision: Decision, now: Instant): void {
    if (decision.duplicate) return;
    if (decision.instance) this.put(decision.instance);
    for (const command of decision.commands) {
      switch (command.kind) {
        case 'timer.start':
          this.schedule({ ...command, seq: this.seq++ });
          break;
        case 'deliver':
          this.timeline.sends.push({
            at: now,
            deliveryId: command.deliveryId,
            destination: command.destination,
            payload: command.payload,
            stepKey: command.stepKey,
          });
          break;
        case 'journal':
          this.onJournal(command.record);
          break;
        case 'instance.end':
          break;
      }
    }
  }

  private onJournal(record: JournalRecord): void {
    this.timeline.journal.push(record);
    if (record.type === 'refused') this.timeline.refusals.push(record);
    if (record.type === 'entered' && record.instanceId !== undefined && record.instanceKey !== undefined) {
      this.timeline.entries.push({
        at: record.at,
        journeyId: record.journeyId,
        version: record.version,
        userKey: record.userKey,
        instanceKey: record.instanceKey,
        instanceId: record.instanceId,
        epoch: Number(record.detail?.epoch),
      });
    }
  }

  /** Keeps timers ordered by instant, then by start order. */
  private schedule(timer: {
    at: Instant;
    seq: number;
    token: string;
    journeyId: string;
    userKey: string;
    instanceKey: string;
  }): void {
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.timers[mid] as PendingTimer).at <= timer.at) lo = mid + 1;
      else hi = mid;
    }
    const { at, seq, token, journeyId, userKey, instanceKey } = timer;
    this.timers.splice(lo, 0, { at, seq, token, journeyId, userKey, instanceKey });
  }
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
  const sim = new Simulation(list, opts.profiles ?? {});
  const normalized = events
    .map(toEvent)
    .filter(
      (e) =>
        (opts.start === undefined || e.receivedAt >= opts.start) &&
        (opts.until === undefined || e.receivedAt <= opts.until),
    )
    // A stable sort: events received at one instant keep their given order.
    .sort((a, b) => a.receivedAt - b.receivedAt);
  sim.run(normalized, opts.until);
  return sim.timeline;
}

// The simulator's engine, one input at a time: the same decide() over an in-memory store and a
// virtual clock. A caller feeds events in receive order and fires the timers due before each
// (an event and a timer at one instant: the event first); what decide() commands goes to hooks,
// so a caller that streams millions of events keeps only the instances, never a timeline.
// `simulate()` (simulate.ts) runs it over an array; `cairn replay` over a stream.
import { buildEventIndex } from './compile.js';
import { eventInstanceKey } from './context.js';
import { decide } from './decide.js';
import { EngineCodes } from './engine-codes.js';
import { compactEnded } from './retain.js';
import { SimulationError } from './sim-events.js';
import { TimerQueue, type QueuedTimer } from './timer-queue.js';
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

export interface SimulatedSend {
  at: Instant;
  deliveryId: string;
  destination: string;
  payload: Record<string, unknown>;
  stepKey: StepKey;
}

export interface SimulatedTimer {
  at: Instant;
  token: string;
  journeyId: string;
  userKey: string;
  instanceKey: string;
  outcome: 'fired' | 'stale' | 'pending';
}

/** What the simulator reports as it goes; every hook is optional. */
export interface SimulatorHooks {
  journal?(record: JournalRecord): void;
  send?(send: SimulatedSend): void;
  /** A timer that came due (fired, or stale: its instance moved on). */
  timer?(timer: SimulatedTimer): void;
}

export interface SimulatorOptions {
  /** Profiles by user key at the start (copied). */
  profiles?: Record<string, Profile>;
  /**
   * Where a user's profile comes from instead: called at every input, it returns the profile
   * object to read and to merge identify traits into (the caller owns and may cache it).
   */
  profileOf?: (userKey: string) => Profile;
  /**
   * Keep instances as lean as decide() reads them: an ended one as its compact record (retain.ts),
   * an open one without the commands of its applied inputs (only their ids are read: a repeated
   * input is a duplicate, whose commands the simulator drops anyway). A long run then holds and
   * clones less; what it reports is the same.
   */
  compact?: boolean;
}

export class Simulator {
  private readonly journeys = new Map<string, CompiledJourney>();
  private readonly index: Map<string, CompiledJourney[]>;
  /** journey -> user -> instance key -> instance (a user's keys in the order first stored). */
  private readonly store = new Map<string, Map<string, Map<string, Instance>>>();
  /** user -> how many of their instances are active. */
  private readonly active = new Map<string, number>();
  private readonly profiles = new Map<string, Profile>();
  private readonly lastSecond = new Map<string, Instant[]>();
  private readonly timers = new TimerQueue();
  private readonly externalProfile: ((userKey: string) => Profile) | undefined;
  private readonly compact: boolean;

  constructor(
    list: CompiledJourney[],
    private readonly hooks: SimulatorHooks = {},
    opts: SimulatorOptions = {},
  ) {
    for (const journey of list) {
      if (this.journeys.has(journey.id)) {
        throw new SimulationError(`journey '${journey.id}' is given twice`, EngineCodes.DUPLICATE_JOURNEY);
      }
      this.journeys.set(journey.id, journey);
    }
    this.index = buildEventIndex(list);
    this.externalProfile = opts.profileOf;
    this.compact = opts.compact ?? false;
    for (const [userKey, profile] of Object.entries(opts.profiles ?? {}))
      this.profiles.set(userKey, structuredClone(profile));
  }

  /** Whether any journey listens to events of this name (entry, hold branch or exit rule). */
  listensTo(name: string): boolean {
    return this.index.has(name);
  }

  /** The earliest pending timer (instant, then start order), without firing it. */
  nextTimer(): Readonly<QueuedTimer> | undefined {
    return this.timers.peek();
  }

  /** Fires the earliest pending timer. */
  fireNext(): void {
    const timer = this.timers.pop();
    if (timer) this.fire(timer);
  }

  /** Fires every timer due before `at` (and, with `inclusive`, at it). */
  fireUntil(at: Instant, inclusive = false): void {
    for (let t = this.timers.peek(); t && (t.at < at || (inclusive && t.at === at)); t = this.timers.peek()) {
      this.fireNext();
    }
  }

  /** Counts an event that no journey listens to (nor reads, as traits) in its user's rate window. */
  note(userKey: string, at: Instant): void {
    this.countRate(userKey, at);
  }

  /** Applies one event; the timers due before its receive time must have fired already. */
  event(event: NormalizedEvent): void {
    const now = event.receivedAt;
    const profile = this.profileOf(event.userKey);
    if (event.type === 'identify') Object.assign(profile.traits, event.traits);
    const eventsLastSecond = this.countRate(event.userKey, now);
    const listening = this.index.get(event.name);
    if (listening === undefined) return;
    const input: Input = { kind: 'event', id: event.messageId, event };
    for (const journey of listening) {
      const key = eventInstanceKey(journey.doc, event);
      const own = this.store.get(journey.id)?.get(event.userKey);
      // The instance the event's key addresses (maybe none yet), then the user's other active
      // instances, which only exit rules without sameKey can touch.
      const targets: Array<string | undefined> = [key];
      if (own && journey.index[event.name]?.exits.length) {
        for (const other of own.keys()) if (other !== key) targets.push(other);
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

  /** The timers still pending, in firing order (the queue is left as it is). */
  pendingTimers(): SimulatedTimer[] {
    return this.timers.ordered().map((t) => ({ ...timerView(t), outcome: 'pending' as const }));
  }

  /** Every instance, unordered. */
  *instances(): IterableIterator<Instance> {
    for (const users of this.store.values()) for (const keys of users.values()) yield* keys.values();
  }

  /** Every instance, ordered by journey, user and key. */
  sortedInstances(): Instance[] {
    const sorted: Instance[] = [];
    const byKey = <T>(map: Map<string, T>): T[] => [...map.keys()].sort().map((k) => map.get(k) as T);
    for (const users of byKey(this.store)) {
      for (const keys of byKey(users)) sorted.push(...byKey(keys));
    }
    return sorted;
  }

  /** Records an event of the user at `now`; returns how many came in the second before it. */
  private countRate(userKey: string, now: Instant): number {
    const times = this.lastSecond.get(userKey);
    if (times === undefined) {
      this.lastSecond.set(userKey, [now]);
      return 0;
    }
    // Kept in place: the times after `now - 1000`, in arrival order.
    let kept = 0;
    for (const t of times) if (t > now - 1000) times[kept++] = t;
    times.length = kept;
    times.push(now);
    return kept;
  }

  private profileOf(userKey: string): Profile {
    if (this.externalProfile) return this.externalProfile(userKey);
    let profile = this.profiles.get(userKey);
    if (!profile) {
      profile = { traits: {}, audiences: [] };
      this.profiles.set(userKey, profile);
    }
    return profile;
  }

  private activeInstances(userKey: string): number {
    return this.active.get(userKey) ?? 0;
  }

  private fire(timer: QueuedTimer): void {
    // Timers come from commands of known journeys only.
    const journey = this.journeys.get(timer.journeyId) as CompiledJourney;
    const instance = this.get(timer.journeyId, timer.userKey, timer.instanceKey);
    const live = instance?.status === 'active' && instance.waitToken === timer.token;
    this.hooks.timer?.({ ...timerView(timer), outcome: live ? 'fired' : 'stale' });
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
    return this.store.get(journeyId)?.get(userKey)?.get(instanceKey);
  }

  private put(decided: Instance): void {
    const instance = this.compact ? lean(decided) : decided;
    let users = this.store.get(instance.journeyId);
    if (users === undefined) {
      users = new Map();
      this.store.set(instance.journeyId, users);
    }
    let keys = users.get(instance.userKey);
    if (keys === undefined) {
      keys = new Map();
      users.set(instance.userKey, keys);
    }
    const before = keys.get(instance.instanceKey)?.status === 'active' ? 1 : 0;
    const delta = (instance.status === 'active' ? 1 : 0) - before;
    if (delta !== 0) this.active.set(instance.userKey, (this.active.get(instance.userKey) ?? 0) + delta);
    keys.set(instance.instanceKey, instance);
  }

  /** Stores the instance and plays the commands; a duplicate's were published already. */
  private apply(decision: Decision, now: Instant): void {
    if (decision.duplicate) return;
    if (decision.instance) this.put(decision.instance);
    for (const command of decision.commands) {
      switch (command.kind) {
        case 'timer.start':
          this.timers.push(command);
          break;
        case 'deliver':
          this.hooks.send?.({
            at: now,
            deliveryId: command.deliveryId,
            destination: command.destination,
            payload: command.payload,
            stepKey: command.stepKey,
          });
          break;
        case 'journal':
          this.hooks.journal?.(command.record);
          break;
        case 'instance.end':
          break;
      }
    }
  }
}

function lean(instance: Instance): Instance {
  if (instance.status !== 'active') return compactEnded(instance, instance.updatedAt);
  if (instance.applied.every((a) => a.commands.length === 0)) return instance;
  return { ...instance, applied: instance.applied.map((a) => ({ inputId: a.inputId, commands: [] })) };
}

function timerView(t: QueuedTimer): Omit<SimulatedTimer, 'outcome'> {
  return { at: t.at, token: t.token, journeyId: t.journeyId, userKey: t.userKey, instanceKey: t.instanceKey };
}

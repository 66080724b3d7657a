// One pass of a replay: the EVENTS window through ingest's parsing, normalization, dedupe and
// alias routing, then through one simulator per journey version on a virtual clock (timers fire
// at their deadlines, before the events received after them). What comes out is folded as it
// comes: counts per step (the fold `cairn journey stats` reads), would-be sends to a callback, and
// a fingerprint of each user's outcome.
import {
  aliasTarget,
  DEFAULT_MAX_EVENT_BYTES,
  isEventType,
  normalizeEvent,
  parseEventJson,
} from '../../libs/events/index.js';
import {
  Simulator,
  type CompiledJourney,
  type JournalRecord,
  type NormalizedEvent,
  type SimulatedSend,
} from '../../libs/journey/index.js';
import {
  countRecord,
  emptyVersionCounters,
  journeyStatsOf,
  type JourneyStats,
  type VersionCounters,
} from '../../libs/insight/index.js';
import type { ReplayIdentity } from './replay-identity.js';
import type { WindowMessage } from './replay-window.js';

export interface ReplayCounts {
  /** Messages read from EVENTS. */
  read: number;
  /** Events given to the journeys. */
  replayed: number;
  /** Refused by ingest's checks (not JSON, not a Spec event): never routed live either. */
  refused: number;
  /** A messageId seen before within the dedupe window. */
  duplicates: number;
  /** Not one of `--users`. */
  filtered: number;
}

export interface SideResult {
  journey: CompiledJourney;
  /** Counted over the window: `window.since` is where it begins. */
  stats: JourneyStats;
  sends: number;
  /** Per user, a fingerprint of what happened to them (journal types, steps, branches, reasons). */
  outcomes: Map<string, number>;
}

export interface ReplayPassOptions {
  journeys: CompiledJourney[];
  window: { since: number; until: number };
  identity: ReplayIdentity;
  users?: ReadonlySet<string>;
  /** How long a repeated messageId is dropped (the streams' or ingest's dedupe window). */
  dedupeWindowMs: number;
  /** Would-be sends of journeys[i]. */
  onSend?: (side: number, send: SimulatedSend) => void;
  /** Journal records of journeys[i] (only when asked: a compare's second look at a few users). */
  onJournal?: (side: number, record: JournalRecord) => void;
  onProgress?: (read: number) => void;
  /** Fingerprint each user's outcome (for a compare). */
  fingerprints?: boolean;
}

/** Raw messages parsed ahead, so that the profile reads of the next users overlap. */
const LOOKAHEAD = 512;
const PROGRESS_EVERY = 2_048;
/** messageIds remembered for the dedupe at most (the oldest are forgotten first). */
export const DEDUPE_MEMORY = 500_000;

/** An event no journey reads: what the rate window and the dedupe need of it. */
interface Glance {
  userKey: string;
  messageId: string;
  receivedAt: number;
}

interface Prepared {
  seq: number;
  event: NormalizedEvent | undefined;
  glance?: Glance;
}

const idOf = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/**
 * The user and messageId of an event that no journey listens to, read without ingest's full
 * checks (the costly part of a replay); undefined when the event needs them (or they are unsure).
 */
function glanceAt(
  value: unknown,
  hint: string,
  m: WindowMessage,
  relevant: (type: string, name: unknown) => boolean,
): Glance | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const body = value as Record<string, unknown>;
  const type = body['type'] ?? hint;
  if (typeof type !== 'string' || (body['type'] !== undefined && type !== hint)) return undefined;
  if (relevant(type, type === 'track' ? body['event'] : type)) return undefined;
  const userKey = idOf(body['userId']) ?? idOf(body['anonymousId']);
  const messageId = body['messageId'];
  if (userKey === undefined || (messageId != null && typeof messageId !== 'string')) return undefined;
  return { userKey, messageId: messageId || `evt-${m.seq}`, receivedAt: m.receivedAt };
}

const FNV_PRIME = 16777619;

const destinationOf = (r: JournalRecord): string => {
  const d = r.detail?.['destination'];
  return typeof d === 'string' ? d : '';
};

function fingerprint(h: number, r: JournalRecord): number {
  const text = `${r.type}|${r.stepId ?? ''}|${r.branchId ?? ''}|${r.reason ?? ''}|${destinationOf(r)};`;
  let x = h;
  for (let i = 0; i < text.length; i++) x = Math.imul(x ^ text.charCodeAt(i), FNV_PRIME) >>> 0;
  return x;
}

export async function replayPass(
  messages: AsyncIterable<WindowMessage>,
  opts: ReplayPassOptions,
): Promise<{ counts: ReplayCounts; sides: SideResult[] }> {
  const { identity, users } = opts;
  const counts: ReplayCounts = { read: 0, replayed: 0, refused: 0, duplicates: 0, filtered: 0 };
  const readsProfile = opts.journeys.some((j) => j.readsProfile);
  // Every record of a replay is in the window: the all-time counts are the window's.
  const folds = opts.journeys.map((j) => emptyVersionCounters(j.id, j.version, false));
  const sides: Array<Omit<SideResult, 'stats'>> = opts.journeys.map((journey) => ({
    journey,
    sends: 0,
    outcomes: new Map(),
  }));
  const sims = opts.journeys.map((journey, i) => {
    const side = sides[i] as Omit<SideResult, 'stats'>;
    const fold = folds[i] as VersionCounters;
    return new Simulator(
      [journey],
      {
        journal: (record) => {
          if (record.journeyId === journey.id && record.version === journey.version && !record.shadow) {
            countRecord(fold.total, record);
          }
          if (opts.fingerprints) {
            side.outcomes.set(
              record.userKey,
              fingerprint(side.outcomes.get(record.userKey) ?? 2166136261, record),
            );
          }
          opts.onJournal?.(i, record);
        },
        send: (send) => {
          side.sends++;
          opts.onSend?.(i, send);
        },
      },
      // A journey that reads no profile is given an empty one, as the matcher does.
      {
        profileOf: readsProfile ? (u) => identity.profileOf(u) : () => ({ traits: {}, audiences: [] }),
        compact: true,
      },
    );
  });

  /** Fires every timer due before `at` (inclusive: at it too), its user's profile read first. */
  const fireBefore = async (at: number, inclusive: boolean): Promise<void> => {
    for (const sim of sims) {
      for (let t = sim.nextTimer(); t && (t.at < at || (inclusive && t.at === at)); t = sim.nextTimer()) {
        if (readsProfile && !identity.hasProfile(t.userKey)) await identity.prepareProfile(t.userKey);
        sim.fireNext();
      }
    }
  };

  // The messageIds of the dedupe window, and the same in arrival order (ids and receive times
  // side by side, no object per event) to forget them.
  const seen = new Set<string>();
  let ids: string[] = [];
  let ats: number[] = [];
  let oldest = 0;
  const isRepeat = (event: { messageId: string; receivedAt: number }): boolean => {
    const horizon = event.receivedAt - opts.dedupeWindowMs;
    while (
      oldest < ids.length &&
      ((ats[oldest] as number) < horizon || ids.length - oldest > DEDUPE_MEMORY)
    ) {
      seen.delete(ids[oldest++] as string);
    }
    if (oldest > 4_096 && oldest * 2 > ids.length) {
      ids = ids.slice(oldest);
      ats = ats.slice(oldest);
      oldest = 0;
    }
    if (seen.has(event.messageId)) return true;
    seen.add(event.messageId);
    ids.push(event.messageId);
    ats.push(event.receivedAt);
    return false;
  };

  // Aliases route, identifies merge traits (when a journey reads them), listened events decide.
  const relevant = (type: string, name: unknown): boolean =>
    type === 'alias' ||
    (type === 'identify' && readsProfile) ||
    typeof name !== 'string' ||
    sims.some((sim) => sim.listensTo(name));

  const prepare = (m: WindowMessage): Prepared => {
    const parsed = parseEventJson(m.data, { maxBytes: DEFAULT_MAX_EVENT_BYTES });
    if (!parsed.ok) return { seq: m.seq, event: undefined };
    const last = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const glance = glanceAt(parsed.value, last, m, relevant);
    if (glance) {
      if (!identity.ready([glance.userKey])) void identity.load([glance.userKey]).catch(() => undefined);
      return { seq: m.seq, event: undefined, glance };
    }
    const result = normalizeEvent(parsed.value, {
      receivedAt: m.receivedAt,
      ...(isEventType(last) ? { typeHint: last } : {}),
      sizeBytes: m.data.byteLength,
      generateId: () => `evt-${m.seq}`,
    });
    if (!result.ok) return { seq: m.seq, event: undefined };
    const alias = aliasTarget(result.event);
    const keys = alias ? [result.event.userKey, alias.from, alias.to] : [result.event.userKey];
    // Started now, awaited when the event's turn comes: the reads of the users ahead overlap.
    if (!identity.ready(keys)) void identity.load(keys).catch(() => undefined);
    return { seq: m.seq, event: result.event };
  };

  const timersDue = (at: number): boolean =>
    sims.some((sim) => {
      const t = sim.nextTimer();
      return t !== undefined && t.at < at;
    });

  const applyGlance = (glance: Glance, canonical: string): void => {
    if (users && !users.has(canonical)) {
      counts.filtered++;
      return;
    }
    counts.replayed++;
    for (const sim of sims) sim.note(canonical, glance.receivedAt);
  };

  const decideEvent = async (event: NormalizedEvent, canonical: string): Promise<void> => {
    await fireBefore(event.receivedAt, false);
    if (readsProfile && !identity.hasProfile(canonical)) await identity.prepareProfile(canonical);
    counts.replayed++;
    for (const sim of sims) sim.event(event);
  };

  const applyEvent = (
    seq: number,
    raw: NormalizedEvent,
    alias: { from: string; to: string } | undefined,
    canonical: string,
  ): Promise<void> | undefined => {
    if (alias) identity.link(alias.from, canonical, seq);
    const event = canonical !== raw.userKey ? { ...raw, userKey: canonical } : raw;
    if (users && !users.has(canonical)) {
      counts.filtered++;
      return undefined;
    }
    // Awaited only when a timer is due first or a profile must be read.
    if (timersDue(event.receivedAt) || (readsProfile && !identity.hasProfile(canonical))) {
      return decideEvent(event, canonical);
    }
    counts.replayed++;
    for (const sim of sims) sim.event(event);
    return undefined;
  };

  /** Applies one message in turn; a promise only when it must wait (a KV read, a profile, a timer). */
  const apply = ({ seq, event: raw, glance }: Prepared): Promise<void> | undefined => {
    if (glance) {
      if (isRepeat(glance)) {
        counts.duplicates++;
        return undefined;
      }
      const canonical = identity.canonicalNow(seq, glance.userKey);
      if (canonical !== undefined) {
        applyGlance(glance, canonical);
        return undefined;
      }
      return identity.canonicalAt(seq, glance.userKey).then((c) => applyGlance(glance, c));
    }
    if (raw === undefined) {
      counts.refused++;
      return undefined;
    }
    if (isRepeat(raw)) {
      counts.duplicates++;
      return undefined;
    }
    // An alias routes to the canonical user of its userId; other events to their own user's.
    const alias = aliasTarget(raw);
    const target = alias ? alias.to : raw.userKey;
    const canonical = identity.canonicalNow(seq, target);
    if (canonical !== undefined) return applyEvent(seq, raw, alias, canonical);
    return identity.canonicalAt(seq, target).then((c) => applyEvent(seq, raw, alias, c));
  };

  const queue: Prepared[] = [];
  let head = 0;
  for await (const m of messages) {
    counts.read++;
    if (counts.read % PROGRESS_EVERY === 0) opts.onProgress?.(counts.read);
    queue.push(prepare(m));
    if (queue.length - head >= LOOKAHEAD) {
      const waiting = apply(queue[head++] as Prepared);
      if (waiting) await waiting;
      if (head >= LOOKAHEAD) {
        queue.splice(0, head);
        head = 0;
      }
    }
  }
  while (head < queue.length) {
    const waiting = apply(queue[head++] as Prepared);
    if (waiting) await waiting;
  }
  opts.onProgress?.(counts.read);
  // The clock runs on to the end of the window: deadlines up to it resolve, later ones stay.
  await fireBefore(opts.window.until, true);
  const stats = (fold: VersionCounters, journey: CompiledJourney): JourneyStats => ({
    ...journeyStatsOf(fold, {
      journeyId: journey.id,
      version: journey.version,
      shadow: false,
      doc: journey.doc,
      until: opts.window.until,
    }),
    window: { since: opts.window.since, until: opts.window.until },
  });
  return {
    counts,
    sides: sides.map((side, i) => ({ ...side, stats: stats(folds[i] as VersionCounters, side.journey) })),
  };
}

// Journal records -> counts: the pure fold shared by the JOURNAL projection (projection.ts), which
// keeps one value per journey, version and shadow flag, and by whoever folds a simulator's or a
// replay's journal in memory. No clock, no I/O: time arrives as the records' `at`.
import type { JournalRecord } from '../journey/index.js';

/** The counts of one step. `waiting - left` is how many instances wait in it now. */
export interface StepCounters {
  /** Times an instance reached the step (`step` records without a reason). */
  entered: number;
  /** Waits begun in it (`waiting` records: holds and delays). */
  waiting: number;
  /** Waits ended in it: a hold branch taken, a timer fired, an exit rule or archive mid-wait. */
  left: number;
  /** Hold: per branch id (restart branches too) and `timeout`; split: per branch id. */
  branches?: Record<string, number>;
  /** Per destination: commands issued (`sent`, or `would_send` of a shadow) and refused (`send.failed`). */
  sends?: Record<string, { sent: number; failed: number }>;
}

export interface Counters {
  entered: number;
  /** Entry refusals by reason (refusals inside a hold, such as `restart_limit`, are not entries). */
  refused: Record<string, number>;
  completed: number;
  /** Exits by reason; completions are not exits. */
  exited: Record<string, number>;
  steps: Record<string, StepCounters>;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** How far back the hourly counts go (windows of up to a day or two, to the hour). */
export const HOURLY_KEPT = 48;
/** How far back the daily counts go: `--since` windows up to 7 days (and the day it began in). */
export const DAILY_KEPT = 8;
/** The longest window asked for. */
export const MAX_WINDOW_MS = 7 * DAY_MS;

/**
 * All-time counts, hourly ones (by hour number: `floor(at / HOUR_MS)`) for the last 48 hours and
 * daily ones (`floor(at / DAY_MS)`, UTC days) for the last 8 days, of one version.
 */
export interface VersionCounters {
  journeyId: string;
  version: number;
  shadow: boolean;
  total: Counters;
  hours: Record<string, Counters>;
  days: Record<string, Counters>;
}

export const emptyCounters = (): Counters => ({
  entered: 0,
  refused: {},
  completed: 0,
  exited: {},
  steps: {},
});

export const emptyVersionCounters = (
  journeyId: string,
  version: number,
  shadow: boolean,
): VersionCounters => ({
  journeyId,
  version,
  shadow,
  total: emptyCounters(),
  hours: {},
  days: {},
});

/** The identity of the counters a record goes to: `<journey>.v<version>[.shadow]` (a KV key). */
export function countersKey(journeyId: string, version: number, shadow: boolean): string {
  return `${journeyId}.v${version}${shadow ? '.shadow' : ''}`;
}

export const recordKey = (r: JournalRecord): string => countersKey(r.journeyId, r.version, r.shadow === true);

const bump = (map: Record<string, number>, key: string, by = 1): void => {
  map[key] = (map[key] ?? 0) + by;
};

function stepOf(c: Counters, stepId: string): StepCounters {
  let s = c.steps[stepId];
  if (!s) {
    s = { entered: 0, waiting: 0, left: 0 };
    c.steps[stepId] = s;
  }
  return s;
}

function sendOf(c: Counters, stepId: string, destination: string): { sent: number; failed: number } {
  const step = stepOf(c, stepId);
  step.sends ??= {};
  let s = step.sends[destination];
  if (!s) {
    s = { sent: 0, failed: 0 };
    step.sends[destination] = s;
  }
  return s;
}

/** Exit reasons that end an instance while it waits in its step (the record names the step). */
const ENDS_A_WAIT = new Set(['exit_rule', 'version_archived']);

/** Adds one journal record to `c`. Records that change no count (ignored, annotations) pass. */
export function countRecord(c: Counters, r: JournalRecord): void {
  const destination = typeof r.detail?.['destination'] === 'string' ? r.detail['destination'] : undefined;
  switch (r.type) {
    case 'entered':
      c.entered++;
      return;
    case 'refused':
      if (r.stepId === undefined) bump(c.refused, r.reason ?? 'unknown');
      return;
    case 'step':
      // A step record with a reason annotates a step already entered (lookback, a delay whose
      // instant is missing or past).
      if (r.stepId !== undefined && r.reason === undefined) stepOf(c, r.stepId).entered++;
      return;
    case 'waiting':
      if (r.stepId !== undefined) stepOf(c, r.stepId).waiting++;
      return;
    case 'branch': {
      if (r.stepId === undefined) return;
      const step = stepOf(c, r.stepId);
      step.branches ??= {};
      bump(step.branches, r.branchId ?? 'none');
      // A hold's branch record names the event that took it, and ends the wait; a split's
      // branch (no event) never began one.
      if (r.detail?.['event'] !== undefined) step.left++;
      return;
    }
    case 'restarted': {
      // A restart branch taken: the instance waits on in the same hold.
      if (r.stepId === undefined) return;
      const step = stepOf(c, r.stepId);
      step.branches ??= {};
      bump(step.branches, r.branchId ?? 'none');
      return;
    }
    case 'timer.fired': {
      if (r.stepId === undefined) return;
      const step = stepOf(c, r.stepId);
      step.left++;
      if (r.reason === 'timeout') {
        step.branches ??= {};
        bump(step.branches, 'timeout');
      }
      return;
    }
    case 'sent':
    case 'would_send':
      if (r.stepId !== undefined && destination !== undefined) sendOf(c, r.stepId, destination).sent++;
      return;
    case 'send.failed':
      if (r.stepId !== undefined && destination !== undefined) sendOf(c, r.stepId, destination).failed++;
      return;
    case 'completed':
      c.completed++;
      return;
    case 'exited':
      bump(c.exited, r.reason ?? 'unknown');
      if (r.stepId !== undefined && ENDS_A_WAIT.has(r.reason ?? '')) stepOf(c, r.stepId).left++;
      return;
    default:
      return;
  }
}

/** Adds `b` into `a`. */
export function addCounters(a: Counters, b: Counters): Counters {
  a.entered += b.entered;
  a.completed += b.completed;
  for (const [k, n] of Object.entries(b.refused)) bump(a.refused, k, n);
  for (const [k, n] of Object.entries(b.exited)) bump(a.exited, k, n);
  for (const [id, s] of Object.entries(b.steps)) {
    const t = stepOf(a, id);
    t.entered += s.entered;
    t.waiting += s.waiting;
    t.left += s.left;
    if (s.branches) {
      t.branches ??= {};
      for (const [k, n] of Object.entries(s.branches)) bump(t.branches, k, n);
    }
    for (const [dest, x] of Object.entries(s.sends ?? {})) {
      const y = sendOf(a, id, dest);
      y.sent += x.sent;
      y.failed += x.failed;
    }
  }
  return a;
}

/** Adds `r` to the bucket `key` of `buckets`; true when the bucket is new. */
function countIn(buckets: Record<string, Counters>, key: number, r: JournalRecord): boolean {
  let c = buckets[String(key)];
  const created = c === undefined;
  if (!c) {
    c = emptyCounters();
    buckets[String(key)] = c;
  }
  countRecord(c, r);
  return created;
}

/**
 * Adds a record to a version's counts: all time, its hour's and its day's. Buckets older than
 * the record's own by more than they are kept are dropped (`pruneWindows` drops them by the
 * clock as well).
 */
export function countVersionRecord(v: VersionCounters, r: JournalRecord): void {
  countRecord(v.total, r);
  const newHour = countIn(v.hours, Math.floor(r.at / HOUR_MS), r);
  const newDay = countIn(v.days, Math.floor(r.at / DAY_MS), r);
  if (newHour || newDay) pruneWindows(v, r.at);
}

/** Drops the hourly and daily counts that are no longer kept at `now`. */
export function pruneWindows(v: VersionCounters, now: number): void {
  const oldestHour = Math.floor(now / HOUR_MS) - HOURLY_KEPT + 1;
  for (const key of Object.keys(v.hours)) if (Number(key) < oldestHour) delete v.hours[key];
  const oldestDay = Math.floor(now / DAY_MS) - DAILY_KEPT + 1;
  for (const key of Object.keys(v.days)) if (Number(key) < oldestDay) delete v.days[key];
}

/** Folds a journal (a simulator's timeline, a replay) into counts per journey, version and shadow flag. */
export function foldJournal(records: Iterable<JournalRecord>): Map<string, VersionCounters> {
  const out = new Map<string, VersionCounters>();
  for (const r of records) {
    const key = recordKey(r);
    let v = out.get(key);
    if (!v) {
      v = emptyVersionCounters(r.journeyId, r.version, r.shadow === true);
      out.set(key, v);
    }
    countVersionRecord(v, r);
  }
  return out;
}

/**
 * The counts of a window from `since` to `until`: the hours that overlap it when it is within the
 * hourly counts, else the days that overlap it; and where the first counted bucket begins.
 */
export function windowCounters(
  v: VersionCounters,
  since: number,
  until: number,
): { counters: Counters; since: number } {
  const hourly = Math.floor(since / HOUR_MS) > Math.floor(until / HOUR_MS) - HOURLY_KEPT;
  const size = hourly ? HOUR_MS : DAY_MS;
  const first = Math.floor(since / size);
  const counters = emptyCounters();
  for (const [key, c] of Object.entries(hourly ? v.hours : v.days)) {
    if (Number(key) >= first) addCounters(counters, c);
  }
  return { counters, since: first * size };
}

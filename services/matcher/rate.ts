// Per-user event rate for the entry limit (`perUserEventsPerSecond`): an in-memory sliding
// window of receive times per user. Per process: inputs of a user all go to the partition's one
// consumer, so one matcher sees all of them (a redelivery after a restart starts a fresh window).
// Each event counts once: a redelivery (the same messageId, after a retry or a crash) is
// recognised by its id and neither counted again nor allowed to push the user over the limit.
// Refusals are journaled by the core with their reason and counted here by journey.
import { Counter, type Registry } from 'prom-client';

const WINDOW_MS = 1_000;

interface Seen {
  at: number;
  messageId: string;
}

export class UserRateWindow {
  private readonly seen = new Map<string, Seen[]>();

  constructor(private readonly maxUsers = 100_000) {}

  /**
   * Records the event `messageId` received at `at` and returns how many of the user's other
   * events were received in the second before it. An event already in the window (a
   * redelivery) is not recorded again: the count is the one it had the first time.
   */
  record(userKey: string, at: number, messageId: string): number {
    const since = at - WINDOW_MS;
    const all = this.seen.get(userKey) ?? [];
    const index = all.findIndex((s) => s.messageId === messageId);
    // A redelivery counts what came before it the first time (the list is in arrival order).
    const before = (index >= 0 ? all.slice(0, index) : all).filter((s) => s.at > since && s.at <= at).length;
    // Keep what a later event may still count: the second before the newest receive time.
    const newest = all.reduce((n, s) => Math.max(n, s.at), at);
    const kept = all.filter((s) => s.at > newest - WINDOW_MS);
    if (index < 0) kept.push({ at, messageId });
    // Re-inserted last: the map's order is least recently seen first.
    this.seen.delete(userKey);
    this.seen.set(userKey, kept);
    if (this.seen.size > this.maxUsers) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return before;
  }

  get size(): number {
    return this.seen.size;
  }
}

/** Journal reasons of the per-user limits (libs/journey entry checks). */
export const USER_LIMIT_REASONS: Readonly<Record<string, string>> = Object.freeze({
  rate_limited: 'events_per_second',
  per_user_limit: 'concurrent_instances',
});

const REFUSALS_METRIC = 'cairn_user_limit_refusals_total';

/** The refusals counter, registered once per registry next to libs/telemetry's metrics (the
 * matcher registers it at start, so that /metrics lists it before the first refusal). */
export function userLimitRefusals(registry: Registry): Counter<'journey' | 'limit'> {
  return (
    (registry.getSingleMetric(REFUSALS_METRIC) as Counter<'journey' | 'limit'> | undefined) ??
    new Counter({
      name: REFUSALS_METRIC,
      help: 'Journey entries refused by a per-user limit (25 events/s, 25 concurrent instances by default)',
      labelNames: ['journey', 'limit'],
      registers: [registry],
    })
  );
}

/** Counts an entry refused by a per-user limit, by journey and limit (never by user: rule 12). */
export function countUserLimitRefusal(
  registry: Registry,
  record: { type: string; journeyId: string; reason?: string | undefined },
): void {
  if (record.type !== 'refused' || record.reason === undefined) return;
  const limit = USER_LIMIT_REASONS[record.reason];
  if (limit === undefined) return;
  userLimitRefusals(registry).inc({ journey: record.journeyId, limit });
}

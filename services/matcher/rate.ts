// Per-user event rate for the entry limit (`perUserEventsPerSecond`): an in-memory sliding
// window of receive times per user. Per process: inputs of a user all go to the partition's one
// consumer, so one matcher sees all of them (a redelivery after a restart starts a fresh window).
const WINDOW_MS = 1_000;

export class UserRateWindow {
  private readonly seen = new Map<string, number[]>();

  constructor(private readonly maxUsers = 100_000) {}

  /** Records an event at `at` and returns how many of the user's events came in the second before it. */
  record(userKey: string, at: number): number {
    const since = at - WINDOW_MS;
    const times = (this.seen.get(userKey) ?? []).filter((t) => t > since && t <= at);
    const before = times.length;
    times.push(at);
    // Re-inserted last: the map's order is least recently seen first.
    this.seen.delete(userKey);
    this.seen.set(userKey, times);
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

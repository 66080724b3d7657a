// Retry delays of failed deliveries: exponential with full jitter, and `Retry-After` honoured.
// The schedule is a pure function of the attempt number and a random source (tests inject it).

export const BASE_BACKOFF_MS = 1_000;
/** The ceiling of one wait: over a 4 h budget this gives about 15-20 attempts. */
export const MAX_BACKOFF_MS = 30 * 60_000;
/** A `Retry-After` beyond this is capped: the job must come back within the budget. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** The ceiling of the wait after failed attempt `attempt` (1-based): min(1 s * 2^(n-1), 30 min). */
export function backoffCeilingMs(attempt: number): number {
  return Math.min(BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
}

/** Full jitter: uniform in [0, ceiling(attempt)]. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(attempt));
}

/** `Retry-After` as seconds or an HTTP date -> ms from `now`, or undefined. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  let ms: number | undefined;
  if (/^\d+$/.test(text)) ms = Number(text) * 1_000;
  else {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) ms = Math.max(0, at - now);
  }
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** The delay of the next attempt: the server's `Retry-After` when given, else backoff. */
export function nextDelayMs(
  attempt: number,
  retryAfter: number | undefined,
  random: () => number = Math.random,
): number {
  return retryAfter ?? backoffMs(attempt, random);
}

// Retry delays of failed deliveries: exponential with full jitter, and `Retry-After` honoured.

export const BASE_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 60_000;
/** A `Retry-After` beyond this is capped: the job must come back within the budget. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** Full jitter: uniform in [0, min(1 s * 2^(n-1), 60 s)]. */
export function backoffMs(deliveryCount: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BASE_BACKOFF_MS * 2 ** Math.max(0, deliveryCount - 1), MAX_BACKOFF_MS);
  return Math.floor(random() * ceiling);
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
export function nextDelayMs(deliveryCount: number, retryAfter: number | undefined): number {
  return retryAfter ?? backoffMs(deliveryCount);
}

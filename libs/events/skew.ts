// Segment's clock-skew correction (Spec, common fields): a device clock can be off by hours, but
// the interval between the call and the send is measured on that same clock, so subtracting it
// from the server's arrival time gives the moment of the call on the server's clock.
import type { Instant } from '../journey/index.js';

export interface ClientTimes {
  /** When Cairn received the event (the JetStream message time, or the HTTP arrival time). */
  receivedAt: Instant;
  /** The device clock when the call was made, as sent. */
  originalTimestamp?: Instant | undefined;
  /** The client-side `timestamp` (a historical import sets it; libraries set it to the call time). */
  timestamp?: Instant | undefined;
  /** The device clock when the event (or its batch) was sent. */
  sentAt?: Instant | undefined;
}

/**
 * The event's `timestamp`: `receivedAt - (sentAt - originalTimestamp)` when the device sent both
 * clocks (`timestamp` stands in for a missing `originalTimestamp`), else the client's own time,
 * else `receivedAt`.
 */
export function correctTimestamp(times: ClientTimes): Instant {
  const callTime = times.originalTimestamp ?? times.timestamp;
  if (callTime === undefined) return times.receivedAt;
  if (times.sentAt === undefined) return callTime;
  return times.receivedAt - (times.sentAt - callTime);
}

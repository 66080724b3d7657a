// Test and CLI helpers: Segment-like events for the simulator, written briefly.
import { EngineCodes } from './engine-codes.js';
import { canonicalJson, hashParts } from './hash.js';
import type { EventType, Instant, NormalizedEvent } from './types.js';

export interface EventSpec {
  /** The event name (a track's `event`); defaults to the type for identify, page, .... */
  name?: string;
  type?: EventType;
  userId?: string;
  anonymousId?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
  /** The receive time (and, unless `timestamp` is given, the client timestamp). */
  at: Instant;
  timestamp?: Instant;
  /** Defaults to a hash of the other fields: give one to send two identical events. */
  messageId?: string;
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A normalized event from a short spec: `makeEvent({ name: 'cart_viewed', userId: 'u1', at: 0 })`. */
export function makeEvent(spec: EventSpec): NormalizedEvent {
  const type = spec.type ?? 'track';
  const name = spec.name ?? type;
  const userKey = spec.userId ?? spec.anonymousId;
  if (userKey === undefined) {
    throw new SimulationError(
      `event '${name}' at ${spec.at} has neither userId nor anonymousId`,
      EngineCodes.BAD_EVENT,
    );
  }
  const properties = spec.properties ?? {};
  const traits = spec.traits ?? {};
  return {
    type,
    name,
    userKey,
    ...(spec.userId !== undefined && { userId: spec.userId }),
    ...(spec.anonymousId !== undefined && { anonymousId: spec.anonymousId }),
    messageId:
      spec.messageId ??
      `sim-${hashParts(type, name, userKey, spec.at, canonicalJson(properties), canonicalJson(traits))}`,
    timestamp: spec.timestamp ?? spec.at,
    receivedAt: spec.at,
    properties,
    traits,
    ...(spec.context !== undefined && { context: spec.context }),
  };
}

/** A full event passes through; a spec is made into one. */
export function toEvent(input: NormalizedEvent | EventSpec): NormalizedEvent {
  return 'receivedAt' in input ? input : makeEvent(input);
}

// The journey context of an instance and the root that conditions and payload paths read:
// `entry`, `events.<event | event - branch | branch id>`, `profile`, `journey`.
import { readPath } from './conditions.js';
import type {
  CompiledJourney,
  EventSnapshot,
  Instance,
  JourneyDocument,
  NormalizedEvent,
  Profile,
} from './types.js';

/** Once-journeys keep a single instance per user, under this key. */
export const ONCE_KEY = '_';

export interface ContextRoot {
  entry: EventSnapshot;
  events: Record<string, EventSnapshot>;
  profile: Profile;
  journey: { id: string; version: number; instanceKey: string; enteredAt: number };
}

/** The point-in-time copy of an event the context keeps (properties, not traits). */
export function snapshotOf(event: NormalizedEvent): EventSnapshot {
  return {
    name: event.name,
    messageId: event.messageId,
    timestamp: event.timestamp,
    receivedAt: event.receivedAt,
    properties: event.properties,
  };
}

/** Segment's alias for an event a hold branch captured: `<event name> - <branch>`. */
export function aliasOf(eventName: string, branchId: string): string {
  return `${eventName} - ${branchId}`;
}

/**
 * The instance key an event addresses in this journey: the `uniqueBy` value as a string
 * (every_time), `_` (once), or undefined when the event lacks the value or it is not a scalar.
 */
export function eventInstanceKey(doc: JourneyDocument, event: NormalizedEvent): string | undefined {
  if (doc.entry.mode === 'once') return ONCE_KEY;
  const value = readPath(event, doc.entry.uniqueBy);
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Stores a captured event under its name and, for a hold branch, under its alias. */
export function captureEvent(instance: Instance, snapshot: EventSnapshot, branchId?: string): void {
  instance.context.events[snapshot.name] = snapshot;
  if (branchId !== undefined) instance.context.events[aliasOf(snapshot.name, branchId)] = snapshot;
}

/**
 * The root of context paths. `events` also answers to the entry event's name and to each hold
 * branch id (what validation accepts); captured names and aliases take precedence.
 */
export function contextRoot(journey: CompiledJourney, instance: Instance, profile: Profile): ContextRoot {
  const events: Record<string, EventSnapshot> = { [instance.context.entry.name]: instance.context.entry };
  for (const step of journey.doc.steps) {
    if (step.type !== 'hold_until') continue;
    for (const branch of step.branches) {
      const captured = instance.context.events[aliasOf(branch.event, branch.id)];
      if (captured) events[branch.id] = captured;
    }
  }
  Object.assign(events, instance.context.events);
  return {
    entry: instance.context.entry,
    events,
    profile,
    journey: {
      id: instance.journeyId,
      version: instance.version,
      instanceKey: instance.instanceKey,
      enteredAt: instance.enteredAt,
    },
  };
}

/** `properties.journey_context` of the default payload: properties by event name or alias. */
export function journeyContextPayload(instance: Instance): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {
    [instance.context.entry.name]: instance.context.entry.properties,
  };
  for (const [key, snapshot] of Object.entries(instance.context.events)) out[key] = snapshot.properties;
  return out;
}

// What a send puts on the wire. The default is a Segment `track` event, so anything that consumes
// Segment journey sends accepts it; an explicit `payload:` mapping builds exactly the keys it
// names (a mapped path that is missing is sent as null: JSON has no undefined) plus `_cairn`
// with the step key and the delivery id, which destinations use to drop duplicates.
import { readPath } from './conditions.js';
import { EngineCodes } from './engine-codes.js';
import { contextRoot, journeyContextPayload, snapshotOf } from './context.js';
import { hashParts } from './hash.js';
import type {
  CompiledJourney,
  Instance,
  Instant,
  NormalizedEvent,
  Profile,
  SendSpec,
  StepKey,
} from './types.js';
import { utf8Length } from './utf8.js';
import { DESTINATION_ID_MAX_LENGTH } from './limits.js';

/** Step id of the exit send in step keys and delivery ids; upper case, so no step can take it. */
export const EXIT_SEND_STEP_ID = 'EXIT';

const KV_SAFE = /^[-_=a-zA-Z0-9]+$/;

/**
 * `<instance>.<step>.<visit>.<destination>`: stable across retries and redeliveries, and a short,
 * valid KV key (`sent.<deliveryId>`). A destination id with other characters, or longer than a
 * destination id can be (64), is replaced by its hash.
 */
export function deliveryIdOf(instanceId: string, stepId: string, visit: number, destination: string): string {
  const dest =
    KV_SAFE.test(destination) && destination.length <= DESTINATION_ID_MAX_LENGTH
      ? destination
      : `h${hashParts(destination)}`;
  return `${instanceId}.${stepId}.${visit}.${dest}`;
}

export interface SendPayloadArgs {
  journey: CompiledJourney;
  instance: Instance;
  spec: SendSpec;
  stepId: string;
  deliveryId: string;
  /** The profile at send time (traits are read now, not at entry). */
  profile: Profile;
  /** The input time that led to the send: the payload's `timestamp`. */
  at: Instant;
}

export function stepKeyOf(journey: CompiledJourney, stepId: string): StepKey {
  return { journeyId: journey.id, version: journey.version, stepId };
}

function selectedTraits(spec: SendSpec, profile: Profile): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const trait of spec.traits) {
    const value = readPath(profile.traits, trait);
    // An absent trait is dropped, as Segment does for unmapped configured traits.
    if (value !== undefined) out[trait] = value;
  }
  return out;
}

/** The payload of one delivery, built only from the journey context and the current profile. */
export function buildSendPayload(args: SendPayloadArgs): Record<string, unknown> {
  const { journey, instance, spec, stepId, deliveryId, profile, at } = args;
  const stepKey = stepKeyOf(journey, stepId);
  if (spec.payload !== undefined) {
    const root = contextRoot(journey, instance, profile);
    const out: Record<string, unknown> = {};
    for (const [key, path] of Object.entries(spec.payload)) out[key] = readPath(root, path) ?? null;
    out._cairn = { step_key: stepKey, delivery_id: deliveryId };
    return out;
  }
  const identity =
    instance.userId !== undefined || instance.anonymousId === undefined
      ? { userId: instance.userId ?? instance.userKey }
      : { anonymousId: instance.anonymousId };
  return {
    type: 'track',
    event: spec.event,
    ...identity,
    timestamp: new Date(at).toISOString(),
    messageId: deliveryId,
    properties: {
      ...selectedTraits(spec, profile),
      journey_context: journeyContextPayload(instance),
      journey_metadata: {
        journey_id: journey.id,
        journey_version: journey.version,
        step_id: stepId,
        instance_id: instance.id,
        epoch: instance.epoch,
      },
    },
    context: { cairn: { step_key: stepKey, delivery_id: deliveryId } },
  };
}

/** Serialized UTF-8 size of a payload: what the limit `maxPayloadBytes` measures. */
export function payloadBytes(payload: Record<string, unknown>): number {
  return utf8Length(JSON.stringify(payload));
}

export interface PreviewInput {
  /** The entry event the preview pretends the instance entered with. */
  entry: NormalizedEvent;
  profile?: Profile;
  now: Instant;
}

export type PreviewResult =
  { payload: Record<string, unknown>; bytes: number } | { error: { code: string; message: string } };

/**
 * The payload a send step (or the exit send, `EXIT_SEND_STEP_ID`) would build for its first
 * destination, for CLI previews. Only the entry event is in the context.
 */
export function previewSend(journey: CompiledJourney, stepId: string, input: PreviewInput): PreviewResult {
  const step = journey.steps[stepId];
  const spec =
    stepId === EXIT_SEND_STEP_ID ? journey.doc.exit.send : step?.type === 'send' ? step : undefined;
  if (spec === undefined) {
    return {
      error: {
        code: EngineCodes.NOT_A_SEND_STEP,
        message: `'${stepId}' is not a send step of journey '${journey.id}'`,
      },
    };
  }
  const instanceId = hashParts('preview', journey.id, input.entry.messageId);
  const instance: Instance = {
    v: 1,
    id: instanceId,
    journeyId: journey.id,
    version: journey.version,
    userKey: input.entry.userKey,
    instanceKey: 'preview',
    ...(input.entry.userId !== undefined && { userId: input.entry.userId }),
    ...(input.entry.anonymousId !== undefined && { anonymousId: input.entry.anonymousId }),
    epoch: 1,
    status: 'active',
    enteredAt: input.entry.receivedAt,
    updatedAt: input.now,
    stepId,
    visits: {},
    restarts: {},
    context: { entry: snapshotOf(input.entry), events: {} },
    recent: [],
    applied: [],
  };
  const payload = buildSendPayload({
    journey,
    instance,
    spec,
    stepId,
    deliveryId: deliveryIdOf(instanceId, stepId, 1, spec.to[0] ?? 'preview'),
    profile: input.profile ?? { traits: {}, audiences: [] },
    at: input.now,
  });
  const bytes = payloadBytes(payload);
  if (bytes > journey.limits.maxPayloadBytes) {
    return {
      error: {
        code: EngineCodes.PAYLOAD_TOO_LARGE,
        message: `the payload takes ${bytes} bytes, over the limit of ${journey.limits.maxPayloadBytes}`,
      },
    };
  }
  return { payload, bytes };
}

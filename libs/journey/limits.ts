// Segment's product limits as defaults (reference/segment-etj.md a.12), except durations: Cairn
// allows 1 s to 182 d where Segment starts at 5 minutes.
import { JourneyCodes, JourneyError } from './errors.js';
import type { Limits } from './types.js';

/** Destination ids are 1-64 characters (libs/bus destination-registry); not configurable. */
export const DESTINATION_ID_MAX_LENGTH = 64;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxSteps: 50,
  maxNameLength: 73,
  maxHoldBranches: 9,
  maxDataSplitBranches: 9,
  maxRandomSplitBranches: 5,
  maxExitRules: 10,
  maxDestinationsPerSend: 5,
  maxPayloadMappings: 100,
  maxPayloadBytes: 32 * 1024,
  maxRestarts: 100,
  minDuration: 1_000,
  maxDuration: 182 * 86_400_000,
  maxUniqueByNameLength: 500,
  maxUniqueByValueLength: 150,
  perUserEventsPerSecond: 25,
  perUserConcurrentInstances: 25,
});

/** The defaults overridden by `partial`; every limit must be a non-negative finite number. */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  const bad: string[] = [];
  for (const [key, value] of Object.entries(partial) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) bad.push(`${key} is not a limit`);
    else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      bad.push(`${key} must be a non-negative number, got ${JSON.stringify(value)}`);
    } else limits[key as keyof Limits] = value;
  }
  if (limits.minDuration > limits.maxDuration) bad.push('minDuration is greater than maxDuration');
  if (bad.length > 0) {
    throw new JourneyError(`invalid journey limits: ${bad.join('; ')}`, [], JourneyCodes.LIMITS_INVALID);
  }
  return limits;
}

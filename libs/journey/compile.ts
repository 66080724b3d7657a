// Document -> compiled journey: every omitted `next` resolved to the following step in document
// order (undefined at the end: the instance completes there), the event index the matcher uses
// to find interested journeys, and a content hash that ignores key order.
import { JourneyCodes, JourneyError } from './errors.js';
import { canonicalJson, fnv1a64Hex } from './hash.js';
import { resolveLimits } from './limits.js';
import type { CompiledJourney, EventInterest, JourneyDocument, Limits, Step } from './types.js';

export interface CompileOptions {
  version: number;
  limits?: Partial<Limits>;
}

/** Stable content hash of a normalized document (hex). */
export function journeyHash(doc: JourneyDocument): string {
  return fnv1a64Hex(canonicalJson(doc));
}

function resolveStep(step: Step, following: string | undefined): Step {
  const or = (next: string | undefined) => next ?? following;
  switch (step.type) {
    case 'send':
    case 'delay':
      return { ...step, next: or(step.next) };
    case 'hold_until':
      return {
        ...step,
        branches: step.branches.map((b) => ({ ...b, next: or(b.next) })),
        timeout: { ...step.timeout, next: or(step.timeout.next) },
      };
    case 'data_split':
      return {
        ...step,
        branches: step.branches.map((b) => ({ ...b, next: or(b.next) })),
        else: or(step.else),
      };
    case 'random_split':
      return { ...step, branches: step.branches.map((b) => ({ ...b, next: or(b.next) })) };
    case 'exit':
      return { ...step };
  }
}

/** Every `next` a step can take (restart branches stay in their hold, so theirs are skipped). */
export function nextsOf(step: Step): Array<string | undefined> {
  switch (step.type) {
    case 'send':
    case 'delay':
      return [step.next];
    case 'hold_until':
      return [...step.branches.filter((b) => !b.restart).map((b) => b.next), step.timeout.next];
    case 'data_split':
      return [...step.branches.map((b) => b.next), step.else];
    case 'random_split':
      return step.branches.map((b) => b.next);
    case 'exit':
      return [];
  }
}

function interest(index: Record<string, EventInterest>, event: string): EventInterest {
  const found = index[event];
  if (found) return found;
  const created: EventInterest = { entry: false, holds: [], exits: [] };
  index[event] = created;
  return created;
}

/** Event name -> who in this journey listens to it (entry, hold steps, exit rule indexes). */
export function buildIndex(doc: JourneyDocument): Record<string, EventInterest> {
  const index: Record<string, EventInterest> = {};
  interest(index, doc.trigger.event).entry = true;
  for (const step of doc.steps) {
    if (step.type !== 'hold_until') continue;
    for (const branch of step.branches) {
      const holds = interest(index, branch.event).holds;
      if (!holds.includes(step.id)) holds.push(step.id);
    }
  }
  doc.exit.rules.forEach((rule, i) => interest(index, rule.event).exits.push(i));
  return index;
}

/**
 * Compiles a validated document. Throws a JourneyError (CAIRN_E_JOURNEY_UNKNOWN_STEP or
 * CAIRN_E_JOURNEY_DUPLICATE_STEP_ID) for the two faults that would make decide() unsafe, in
 * case a caller skipped validation.
 */
export function compile(doc: JourneyDocument, opts: CompileOptions): CompiledJourney {
  const steps: Record<string, Step> = {};
  doc.steps.forEach((step, i) => {
    if (Object.hasOwn(steps, step.id)) {
      throw new JourneyError(`duplicate step id '${step.id}'`, [], JourneyCodes.DUPLICATE_STEP_ID);
    }
    steps[step.id] = resolveStep(step, doc.steps[i + 1]?.id);
  });
  for (const step of Object.values(steps)) {
    for (const next of nextsOf(step)) {
      if (next !== undefined && !Object.hasOwn(steps, next)) {
        throw new JourneyError(
          `step '${step.id}' leads to unknown step '${next}'`,
          [],
          JourneyCodes.UNKNOWN_STEP,
        );
      }
    }
  }
  return {
    id: doc.id,
    version: opts.version,
    hash: journeyHash(doc),
    doc,
    steps,
    start: doc.steps[0]?.id ?? null,
    index: buildIndex(doc),
    limits: resolveLimits(opts.limits),
    readsProfile: readsProfile(doc),
  };
}

const isProfilePath = (text: string): boolean => text === 'profile' || text.startsWith('profile.');

/** Whether a path into the profile appears anywhere in `value`, as a key or as a string. */
function mentionsProfile(value: unknown): boolean {
  if (typeof value === 'string') return isProfilePath(value);
  if (Array.isArray(value)) return value.some(mentionsProfile);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => isProfilePath(k) || mentionsProfile(v));
  }
  return false;
}

/**
 * Whether the journey reads the profile: a trigger audience, traits on a send, or a `profile.*`
 * path anywhere (conditions, payload mappings, `delay.until`). It errs on the side of reading: a
 * string value that merely looks like a profile path counts too.
 */
export function readsProfile(doc: JourneyDocument): boolean {
  if (doc.trigger.audience !== undefined) return true;
  if (doc.steps.some((step) => step.type === 'send' && step.traits.length > 0)) return true;
  if ((doc.exit.send?.traits.length ?? 0) > 0) return true;
  return mentionsProfile(doc.steps) || mentionsProfile(doc.exit) || mentionsProfile(doc.trigger);
}

/** Event name -> the journeys that care about it, so per-event cost stays flat with many journeys. */
export function buildEventIndex(journeys: readonly CompiledJourney[]): Map<string, CompiledJourney[]> {
  const byEvent = new Map<string, CompiledJourney[]>();
  for (const journey of journeys) {
    for (const event of Object.keys(journey.index)) {
      const list = byEvent.get(event);
      if (list) list.push(journey);
      else byEvent.set(event, [journey]);
    }
  }
  return byEvent;
}

// Shared by the engine tests (compile, decide, simulate): journeys from readable YAML, a clock,
// and short ways to read a timeline.
import {
  compile,
  formatIssues,
  parseJourney,
  type Command,
  type CompiledJourney,
  type DecideContext,
  type Limits,
  type Profile,
  type Timeline,
} from '../../../libs/journey/index.js';

export const T0 = Date.parse('2025-03-01T09:00:00.000Z');
export const SEC = 1_000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** Parses, validates and compiles a journey; a fixture that does not validate fails loudly. */
export function journeyFrom(
  yaml: string,
  opts: { version?: number; limits?: Partial<Limits> } = {},
): CompiledJourney {
  const parsed = parseJourney(yaml, opts.limits ? { limits: opts.limits } : {});
  if (!parsed.ok) throw new Error(`fixture does not validate:\n${formatIssues(parsed.errors)}`);
  return compile(parsed.journey, { version: opts.version ?? 1, ...(opts.limits && { limits: opts.limits }) });
}

export const NO_PROFILE: Profile = { traits: {}, audiences: [] };

export function ctxAt(now: number, over: Partial<DecideContext> = {}): DecideContext {
  return {
    now,
    profile: NO_PROFILE,
    user: { activeInstances: 0, eventsLastSecond: 0 },
    acceptsEntries: true,
    ...over,
  };
}

/** Sends as `[offset from T0, destination, event or mapped keys]`, easy to compare in a table. */
export function sendsOf(timeline: Timeline): Array<[number, string, string]> {
  return timeline.sends.map((s) => [
    s.at - T0,
    s.destination,
    (s.payload.event as string | undefined) ?? s.stepKey.stepId,
  ]);
}

/** The journal as `type reason? step? branch?` lines, for readable expectations. */
export function journalLines(timeline: Timeline, journeyId?: string): string[] {
  return timeline.journal
    .filter((r) => journeyId === undefined || r.journeyId === journeyId)
    .map((r) => [r.type, r.reason, r.stepId, r.branchId].filter((x) => x !== undefined).join(' '));
}

/** Commands as short strings: `journal step wait`, `timer.start +1h`, `deliver crm Nudge`, ... */
export function summarize(commands: readonly Command[]): string[] {
  return commands.map((c) => {
    switch (c.kind) {
      case 'journal': {
        const r = c.record;
        return ['journal', r.type, r.reason, r.stepId, r.branchId].filter((x) => x !== undefined).join(' ');
      }
      case 'timer.start':
        return `timer.start +${(c.at - T0) / MIN}m`;
      case 'deliver':
        return `deliver ${c.destination} ${(c.payload.event as string | undefined) ?? c.stepKey.stepId}`;
      case 'instance.end':
        return `instance.end ${c.status} ${c.reason}`;
    }
  });
}

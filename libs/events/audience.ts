// Audiences: named sets of users, kept on the profile (`profile.audiences`) where a trigger's
// `audience` filter and `data_split` conditions read them. Two kinds:
// - computed: a named condition over traits (`traits.plan: pro`), evaluated on every identify;
// - fed: `Audience Entered` / `Audience Exited` track events (Segment Engage's convention, also
//   what `cairn audience add|remove` publishes).
// Pure decisions; ingest reads and writes the profile.
import { z } from 'zod';

import {
  evaluateConditions,
  normalizeWhere,
  type Condition,
  type NormalizedEvent,
} from '../journey/index.js';

export const AUDIENCE_ENTERED = 'Audience Entered';
export const AUDIENCE_EXITED = 'Audience Exited';

/** Audience ids, as journeys name them in `trigger.audience`. */
export const AUDIENCE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface ComputedAudience {
  id: string;
  /** Conditions over the profile, rooted at `traits` (`traits.plan`, `traits.ltv: { gte: 100 }`). */
  where: Record<string, unknown>;
  conditions: readonly Condition[];
}

const definitionSchema = z.object({
  id: z.string().regex(AUDIENCE_ID, { error: 'must be 1-128 of [A-Za-z0-9_.-], not starting with . or -' }),
  where: z.record(z.string(), z.unknown()),
});

const fileSchema = z.object({ audiences: z.array(definitionSchema) });

/** Validates audience definitions (`{ audiences: [{ id, where }] }`, from YAML or JSON); throws an
 * Error naming the first problem. Every path must start at `traits.`. */
export function parseAudienceDefinitions(value: unknown): ComputedAudience[] {
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`audiences: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'}`.trim());
  }
  const seen = new Set<string>();
  return parsed.data.audiences.map((d) => {
    if (seen.has(d.id)) throw new Error(`audiences: ${d.id} is defined twice`);
    seen.add(d.id);
    for (const path of Object.keys(d.where)) {
      if (!path.startsWith('traits.')) {
        throw new Error(`audiences: ${d.id}: condition path ${path} must start with traits.`);
      }
    }
    let conditions: Condition[];
    try {
      conditions = normalizeWhere(d.where);
    } catch (err) {
      throw new Error(`audiences: ${d.id}: ${(err as Error).message}`, { cause: err });
    }
    return { id: d.id, where: d.where, conditions };
  });
}

/** The membership after an identify: each computed audience is entered when its conditions hold
 * for `traits` and left when they do not; fed audiences (not defined here) are kept. */
export function computeAudiences(
  definitions: readonly ComputedAudience[],
  traits: Record<string, unknown>,
  current: readonly string[],
): string[] {
  const computed = new Set(definitions.map((d) => d.id));
  const next = current.filter((a) => !computed.has(a));
  for (const d of definitions) if (evaluateConditions(d.conditions, { traits })) next.push(d.id);
  return next;
}

export interface AudienceChange {
  audience: string;
  entered: boolean;
}

/** The audience a track event feeds: `Audience Entered` / `Audience Exited` with the audience in
 * `properties.audience_key` (Segment Engage), or `audience_id` / `audience`. */
export function audienceChange(event: NormalizedEvent): AudienceChange | undefined {
  if (event.type !== 'track') return undefined;
  const entered = event.name === AUDIENCE_ENTERED;
  if (!entered && event.name !== AUDIENCE_EXITED) return undefined;
  const p = event.properties;
  const audience = [p.audience_key, p.audience_id, p.audience].find(
    (v): v is string => typeof v === 'string' && AUDIENCE_ID.test(v),
  );
  return audience === undefined ? undefined : { audience, entered };
}

/** The membership with one change applied; the same array when nothing changes. */
export function applyAudienceChange(current: readonly string[], change: AudienceChange): readonly string[] {
  const has = current.includes(change.audience);
  if (change.entered === has) return current;
  return change.entered ? [...current, change.audience] : current.filter((a) => a !== change.audience);
}

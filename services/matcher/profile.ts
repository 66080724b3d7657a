// KV `profiles`: `{ v: 1, traits, audiences }` under encodeKey(userKey), written by ingest on
// identify, alias and audience events. The matcher only reads it; a user without one has an
// empty profile. An alias record (`aliasOf`, docs/ingest.md) is followed to the canonical
// profile, so an instance started under an anonymous id that was later aliased still reads the
// person's current traits and audiences at send time.
import type { KV } from '@nats-io/kv';
import { z } from 'zod';

import { encodeKey } from '../../libs/bus/index.js';
import type { Profile } from '../../libs/journey/index.js';

const StoredProfileSchema = z.object({
  v: z.literal(1),
  traits: z.record(z.string(), z.unknown()),
  audiences: z.array(z.string()),
  aliasOf: z.string().optional(),
});

export const EMPTY_PROFILE: Profile = { traits: {}, audiences: [] };

/** Alias hops followed at most (ingest keeps chains one hop long). */
const MAX_ALIAS_HOPS = 4;

export async function readProfile(kv: KV, userKey: string): Promise<Profile> {
  let key = userKey;
  for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop++) {
    const entry = await kv.get(encodeKey(key));
    if (!entry || entry.operation !== 'PUT') return EMPTY_PROFILE;
    const parsed = StoredProfileSchema.parse(JSON.parse(new TextDecoder().decode(entry.value)));
    if (parsed.aliasOf === undefined || parsed.aliasOf === key) {
      return { traits: parsed.traits, audiences: parsed.audiences };
    }
    key = parsed.aliasOf;
  }
  return EMPTY_PROFILE;
}

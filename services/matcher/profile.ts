// KV `profiles`: `{ v: 1, traits, audiences }` under encodeKey(userKey), written by ingest on
// identify. The matcher only reads it; a user without one has an empty profile.
import type { KV } from '@nats-io/kv';
import { z } from 'zod';

import { encodeKey } from '../../libs/bus/index.js';
import type { Profile } from '../../libs/journey/index.js';

const StoredProfileSchema = z.object({
  v: z.literal(1),
  traits: z.record(z.string(), z.unknown()),
  audiences: z.array(z.string()),
});

export const EMPTY_PROFILE: Profile = { traits: {}, audiences: [] };

export async function readProfile(kv: KV, userKey: string): Promise<Profile> {
  const entry = await kv.get(encodeKey(userKey));
  if (!entry || entry.operation !== 'PUT') return EMPTY_PROFILE;
  const parsed = StoredProfileSchema.parse(JSON.parse(new TextDecoder().decode(entry.value)));
  return { traits: parsed.traits, audiences: parsed.audiences };
}

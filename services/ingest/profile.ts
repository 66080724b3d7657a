// KV `profiles`: `{ v: 1, traits, audiences }` under encodeKey(userKey). Ingest writes it on
// identify (CAS, STYLE.md rule 7); the matcher reads it.
import type { KV } from '@nats-io/kv';
import { z } from 'zod';

import { casUpdate, encodeKey, type ValueCodec } from '../../libs/bus/index.js';
import { mergeTraits } from '../../libs/events/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';

export const StoredProfileSchema = z.object({
  v: z.literal(1),
  traits: z.record(z.string(), z.unknown()),
  audiences: z.array(z.string()),
});
export type StoredProfile = z.output<typeof StoredProfileSchema>;

export const profileCodec: ValueCodec<StoredProfile> = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => StoredProfileSchema.parse(JSON.parse(new TextDecoder().decode(bytes))),
};

/** Merges `traits` into the user's profile; writes nothing when that changes nothing (a
 * redelivered identify). */
export async function mergeProfileTraits(
  kv: KV,
  userKey: string,
  traits: Record<string, unknown>,
  metrics?: Pick<Metrics, 'kvCasConflicts'>,
): Promise<StoredProfile | undefined> {
  const result = await casUpdate<StoredProfile>(
    kv,
    encodeKey(userKey),
    (current) => {
      const merged = mergeTraits(current, traits);
      const next: StoredProfile = { v: 1, traits: merged.traits, audiences: merged.audiences };
      if (current && JSON.stringify(current.traits) === JSON.stringify(next.traits)) return undefined;
      return next;
    },
    { codec: profileCodec, ...(metrics ? { metrics } : {}) },
  );
  return result.value;
}

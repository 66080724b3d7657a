// Each user's active instances, as one KV entry (`user_instances`, key = the encoded user key,
// value = the instance KV keys of the user's active instances in every journey). It replaces a
// `kv.keys` listing on every entry, which on nats-server 2.9 scans the whole instances bucket
// (docs/performance.md): the per-user instance limit and the exit rules read one entry instead.
//
// The matcher keeps it in step after it commits an instance whose status changed (and again
// when a redelivered input finds its change already committed, which covers a crash in
// between). A user's inputs are applied one at a time by the partition's one matcher, so the
// CAS rarely conflicts. Should the index ever list an instance that ended (a crash after the
// index write and before the instance commit, say), the count verifies before refusing.

import { casUpdate, encodeKey, instanceCodec, type ValueCodec, type KvStore } from '../../libs/bus/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';

interface ActiveIndex {
  v: 1;
  keys: string[];
}

const codec: ValueCodec<ActiveIndex> = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ActiveIndex>;
    return { v: 1, keys: Array.isArray(parsed.keys) ? parsed.keys.map(String) : [] };
  },
};

export interface ActiveIndexContext {
  userInstances: KvStore;
  instances: KvStore;
  metrics: Pick<Metrics, 'kvCasConflicts'>;
}

/** The instance KV keys the index holds for a user. */
export async function activeKeys(ctx: ActiveIndexContext, userKey: string): Promise<string[]> {
  const e = await ctx.userInstances.get(encodeKey(userKey));
  return e?.operation === 'PUT' ? codec.decode(e.value).keys : [];
}

/** Records that the instance at `kvKey` is (or is no longer) active; writes only on a change. */
export async function syncActive(
  ctx: ActiveIndexContext,
  userKey: string,
  kvKey: string,
  active: boolean,
): Promise<void> {
  await casUpdate<ActiveIndex>(
    ctx.userInstances,
    encodeKey(userKey),
    (current) => {
      const keys = current?.keys ?? [];
      if (keys.includes(kvKey) === active) return undefined;
      return { v: 1, keys: active ? [...keys, kvKey] : keys.filter((k) => k !== kvKey) };
    },
    { codec, metrics: ctx.metrics, bucket: 'user_instances' },
  );
}

/**
 * How many active instances the user has besides `ownKey`, up to `limit`. Below the limit the
 * index is trusted (one read); at the limit each listed instance is read, and ended or missing
 * ones are dropped from the index, so a stale entry never refuses an entry.
 */
export async function countActive(
  ctx: ActiveIndexContext,
  userKey: string,
  ownKey: string,
  limit: number,
): Promise<number> {
  const listed = (await activeKeys(ctx, userKey)).filter((k) => k !== ownKey);
  if (listed.length < limit) return listed.length;
  let n = 0;
  for (const key of listed) {
    const e = await ctx.instances.get(key);
    if (e?.operation === 'PUT' && instanceCodec.decode(e.value).status === 'active') n++;
    else await syncActive(ctx, userKey, key, false);
    if (n >= limit) break;
  }
  return n;
}

// KV `cairn_state`: ingest's watermark and the timer service's per-partition progress. Versioned
// JSON values (STYLE.md rule 11) with zod schemas, shared by their writer and their readers.
import { z } from 'zod';

import type { Bus } from './connection.js';
import type { ValueCodec } from './kv-cas.js';
import { BUCKETS } from './topology.js';

export const WATERMARK_KEY = 'watermark';

/**
 * The key of ingest shard `shard` of `shards`: `watermark` when ingest is not sharded, else
 * `watermark.s<shard>of<shards>`. Shard s is the only writer of the partitions p with
 * p mod shards == s, and a reader takes partition p's value from that shard's key only.
 */
export const watermarkKey = (shards: number, shard: number): string =>
  shards <= 1 ? WATERMARK_KEY : `watermark.s${shard}of${shards}`;
export const timerProgressKey = (p: number): string => `timer.${p}`;

/**
 * The receive time (epoch ms, the NATS server's clock) up to which ingest has routed every event:
 * `at` for all partitions (v1), and since v2 `partitions[p]` for partition p, held back only by
 * the events that can still be routed to p. `at` is the lowest of them, for readers of v1.
 */
export const WatermarkSchema = z.union([
  z.object({ v: z.literal(1), at: z.number() }),
  z.object({
    v: z.literal(2),
    at: z.number(),
    partitions: z.array(z.number()),
    /** Written by ingest shard `index` of `count`: only its partitions' values mean anything
     * (the others are 0), and `at` is the lowest of those. */
    shard: z.object({ index: z.number().int(), count: z.number().int() }).optional(),
  }),
]);
export type Watermark = z.output<typeof WatermarkSchema>;

/** Partition p's watermark in a stored value. */
export const watermarkOf = (w: Watermark, p: number): number =>
  w.v === 2 ? (w.partitions[p] ?? w.at) : w.at;

/** The last bucket of partition p whose timers have all fired (and which has been purged). */
export const TimerProgressSchema = z.object({ v: z.literal(1), bucket: z.number().int() });
export type TimerProgress = z.output<typeof TimerProgressSchema>;

function jsonCodec<T>(schema: z.ZodType<T>): ValueCodec<T> {
  return {
    encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
    decode: (bytes) => schema.parse(JSON.parse(new TextDecoder().decode(bytes))),
  };
}

export const watermarkCodec: ValueCodec<Watermark> = jsonCodec(WatermarkSchema);
export const timerProgressCodec: ValueCodec<TimerProgress> = jsonCodec(TimerProgressSchema);

/** The current watermark (epoch ms) of partition p, or of every partition (the lowest) without
 * one; undefined when ingest (every shard of it, with `shards`) has never written one. */
export async function readWatermark(bus: Bus, partition?: number, shards = 1): Promise<number | undefined> {
  const kv = await bus.kv(BUCKETS.state);
  const read = async (shard: number): Promise<Watermark | undefined> => {
    const entry = await kv.get(watermarkKey(shards, shard));
    return entry?.operation === 'PUT' ? watermarkCodec.decode(entry.value) : undefined;
  };
  if (partition !== undefined) {
    const w = await read(partition % shards);
    return w === undefined ? undefined : watermarkOf(w, partition);
  }
  let lowest: number | undefined;
  for (let s = 0; s < shards; s++) {
    const w = await read(s);
    if (w === undefined) return undefined;
    lowest = Math.min(lowest ?? Infinity, w.at);
  }
  return lowest;
}

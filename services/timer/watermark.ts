// Follows ingest's watermarks (KV `cairn_state` key `watermark`, one per partition; with S ingest
// shards the key `watermark.s<s>of<S>` of shard s, the only writer of partitions p mod S == s)
// with a KV watch, and reads the key(s) once a second as well. The watch is an ordered push consumer with the
// client's heartbeat settings: when the node holding it dies, it is made again only after two
// missed heartbeats (10–15 s), and every due timer would wait that long; the read bounds the
// stall to about a second. A stale read only lags: the newest revision wins, and a partition's
// watermark never moves backwards.
import {
  BUCKETS,
  watermarkCodec,
  watermarkKey,
  watermarkOf,
  type Bus,
  type Watermark,
} from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

/** Period of the read that backs the watch up. */
export const WATERMARK_READ_MS = 1_000;

export interface WatermarkWatch {
  /** Partition p's latest watermark (epoch ms); -Infinity until ingest has written one. */
  current(partition: number): number;
  stop(): Promise<void>;
}

export async function watchWatermark(
  bus: Bus,
  log: Logger,
  onChange: () => void,
  /** CAIRN_INGEST_SHARDS: partition p's value comes from shard p mod shards only. */
  shards = 1,
): Promise<WatermarkWatch> {
  const kv = await bus.kv(BUCKETS.state);
  const store = await bus.store(BUCKETS.state);
  const keys = Array.from({ length: shards }, (_, s) => watermarkKey(shards, s));
  const latest = new Map<string, { value: Watermark; revision: number }>();
  // Never backwards per partition (a restarted ingest may publish lower values for a while).
  const highest = new Map<number, number>();
  const offer = (key: string, value: Uint8Array, rev: number): void => {
    if (rev <= (latest.get(key)?.revision ?? 0)) return;
    try {
      latest.set(key, { value: watermarkCodec.decode(value), revision: rev });
      onChange();
    } catch (err) {
      log.error({ err, key }, 'bad watermark value ignored');
    }
  };
  // One shard: its one key. Several: every shard key (a key of another shard count is ignored).
  const iter = await kv.watch({ key: shards > 1 ? 'watermark.>' : keys[0]! });
  const done = (async () => {
    for await (const entry of iter)
      if (entry.operation === 'PUT' && keys.includes(entry.key))
        offer(entry.key, entry.value, entry.revision);
  })();
  done.catch((err: unknown) => log.error({ err }, 'watermark watch failed'));
  let reading = false;
  const reader = setInterval(() => {
    if (reading) return;
    reading = true;
    Promise.all(
      keys.map((key) =>
        store.get(key).then((entry) => {
          if (entry && entry.operation === 'PUT') offer(key, entry.value, entry.revision);
        }),
      ),
    )
      .catch((err: unknown) => log.debug({ err }, 'watermark read failed; the watch goes on'))
      .finally(() => (reading = false));
  }, WATERMARK_READ_MS);
  reader.unref();
  return {
    current: (partition) => {
      const w = latest.get(keys[partition % shards]!)?.value;
      const at = w ? watermarkOf(w, partition) : -Infinity;
      const before = highest.get(partition) ?? -Infinity;
      if (at <= before) return before;
      highest.set(partition, at);
      return at;
    },
    async stop() {
      clearInterval(reader);
      iter.stop();
      await done.catch(() => undefined);
    },
  };
}

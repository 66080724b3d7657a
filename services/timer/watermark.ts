// Follows ingest's watermark (KV `cairn_state` key `watermark`) with a KV watch, and reads the
// key once a second as well. The watch is an ordered push consumer with the client's heartbeat
// settings: when the node holding it dies, it is made again only after two missed heartbeats
// (10–15 s), and every due timer would wait that long; the read (a direct get, which any
// replica answers) bounds the stall to about a second. A stale read only lags: the watermark
// never moves backwards.
import { BUCKETS, WATERMARK_KEY, watermarkCodec, type Bus } from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

/** Period of the direct read that backs the watch up. */
export const WATERMARK_READ_MS = 1_000;

export interface WatermarkWatch {
  /** The latest watermark (epoch ms); -Infinity until ingest has written one. */
  current(): number;
  stop(): Promise<void>;
}

export async function watchWatermark(
  bus: Bus,
  log: Logger,
  onChange: (at: number) => void,
): Promise<WatermarkWatch> {
  const kv = await bus.kv(BUCKETS.state);
  const store = await bus.store(BUCKETS.state);
  let at = -Infinity;
  const offer = (value: Uint8Array): void => {
    try {
      const next = watermarkCodec.decode(value).at;
      if (next > at) {
        at = next;
        onChange(at);
      }
    } catch (err) {
      log.error({ err }, 'bad watermark value ignored');
    }
  };
  const iter = await kv.watch({ key: WATERMARK_KEY });
  const done = (async () => {
    for await (const entry of iter) if (entry.operation === 'PUT') offer(entry.value);
  })();
  done.catch((err: unknown) => log.error({ err }, 'watermark watch failed'));
  let reading = false;
  const reader = setInterval(() => {
    if (reading) return;
    reading = true;
    store
      .get(WATERMARK_KEY)
      .then((entry) => {
        if (entry && entry.operation === 'PUT') offer(entry.value);
      })
      .catch((err: unknown) => log.debug({ err }, 'watermark read failed; the watch goes on'))
      .finally(() => (reading = false));
  }, WATERMARK_READ_MS);
  reader.unref();
  return {
    current: () => at,
    async stop() {
      clearInterval(reader);
      iter.stop();
      await done.catch(() => undefined);
    },
  };
}

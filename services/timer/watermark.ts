// Follows ingest's watermark (KV `cairn_state` key `watermark`) with a KV watch.
import { BUCKETS, WATERMARK_KEY, watermarkCodec, type Bus } from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

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
  let at = -Infinity;
  const iter = await kv.watch({ key: WATERMARK_KEY });
  const done = (async () => {
    for await (const entry of iter) {
      if (entry.operation !== 'PUT') continue;
      try {
        const next = watermarkCodec.decode(entry.value).at;
        if (next > at) {
          at = next;
          onChange(at);
        }
      } catch (err) {
        log.error({ err }, 'bad watermark value ignored');
      }
    }
  })();
  done.catch((err: unknown) => log.error({ err }, 'watermark watch failed'));
  return {
    current: () => at,
    async stop() {
      iter.stop();
      await done.catch(() => undefined);
    },
  };
}

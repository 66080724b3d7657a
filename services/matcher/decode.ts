// Decoding once per message: a runner's keyOf needs the user key, the handler the rest, and both
// see the same JsMsg. What `decode` throws becomes the `bad` value (the handler dead-letters it).
import type { JsMsg } from '@nats-io/jetstream';

export function cachedDecoder<D>(decode: (msg: JsMsg) => D, bad: (error: Error) => D): (msg: JsMsg) => D {
  const cache = new WeakMap<JsMsg, D>();
  return (msg) => {
    let d = cache.get(msg);
    if (d === undefined) {
      try {
        d = decode(msg);
      } catch (err) {
        d = bad(err as Error);
      }
      cache.set(msg, d);
    }
    return d;
  };
}

// One socket write per event-loop turn instead of one per microtask flush. The client (nats.js
// v3, @nats-io/nats-core's ProtocolHandler) buffers what is published and writes the buffer from
// a microtask queued when the buffer stops being empty; on a hot path that interleaves awaits
// with publishes (an ack, a publish, a KV request per message, many messages per socket read),
// that is one `write` per microtask generation, and the writes were about a fifth of a worker's
// busy CPU (docs/performance.md). Here the buffer is written from `setImmediate`: everything
// published while the current I/O callbacks and their microtasks run goes out in one write, right
// after the poll phase, before any timer. A buffer over the client's threshold is still written
// at once, and the client's own flush() (PING) and reconnect still write directly.
//
// The client has no option for this; the ProtocolHandler is reached through the connection's
// `protocol` member. A client whose handler does not look as expected is left as it is
// (`coalesceWrites` returns false).
import type { NatsConnection } from '@nats-io/transport-node';

interface OutboundBuffer {
  fill(...buffers: Uint8Array[]): void;
  size(): number;
}

interface ProtocolHandlerLike {
  outbound: OutboundBuffer;
  pendingLimit: number;
  flushPending(): void;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
}

function isProtocolHandler(p: unknown): p is ProtocolHandlerLike {
  if (typeof p !== 'object' || p === null) return false;
  const h = p as Partial<ProtocolHandlerLike>;
  return (
    typeof h.flushPending === 'function' &&
    typeof h.sendCommand === 'function' &&
    typeof h.pendingLimit === 'number' &&
    typeof h.outbound?.fill === 'function' &&
    typeof h.outbound.size === 'function'
  );
}

const encoder = new TextEncoder();

/** Makes the connection write at most once per event-loop turn (see above). */
export function coalesceWrites(nc: NatsConnection): boolean {
  const protocol = (nc as unknown as { protocol?: unknown }).protocol;
  if (!isProtocolHandler(protocol)) return false;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    protocol.flushPending();
  };
  protocol.sendCommand = (cmd, ...payloads) => {
    protocol.outbound.fill(typeof cmd === 'string' ? encoder.encode(cmd) : cmd, ...payloads);
    if (protocol.outbound.size() >= protocol.pendingLimit) protocol.flushPending();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return true;
}

// The destination side: a local HTTP server that answers 200 at once and records, for each
// delivery, event->sink latency (now - the `sent_at` the load generator stamped into the event).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Sink {
  url: string;
  /** Deliveries received so far. */
  readonly count: number;
  /** Latencies (ms) recorded since the last `mark()`. */
  latencies(): number[];
  /** Starts a new window of latencies; returns the count at this point. */
  mark(): number;
  /** Bodies received (only when keepBodies was asked). */
  bodies: unknown[];
  /** Request headers' idempotency keys (only when keepBodies was asked). */
  ids: string[];
  close(): Promise<void>;
}

export async function startSink(opts: { keepBodies?: boolean } = {}): Promise<Sink> {
  let count = 0;
  let window: number[] = [];
  const bodies: unknown[] = [];
  const ids: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      count++;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sent_at?: unknown };
        if (typeof body.sent_at === 'number') window.push(now - body.sent_at);
        if (opts.keepBodies) {
          bodies.push(body);
          ids.push(String(req.headers['idempotency-key']));
        }
      } catch {
        // Not JSON: counted, no latency.
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return count;
    },
    latencies: () => window,
    mark() {
      window = [];
      return count;
    },
    bodies,
    ids,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

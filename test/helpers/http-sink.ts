// A real local HTTP server on port 0 that records what it receives: the destination side of
// sender tests (STYLE.md rule 10).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body as text. */
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown;
  /** Date.now() when the request finished arriving. */
  at: number;
}

export interface SinkResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer this many ms after the request arrived (a slow destination). */
  delayMs?: number;
  /** Destroy the connection instead of answering (a reset; `status` is then ignored). */
  reset?: boolean;
}

/** Decides the response of the n-th request (0-based). Default: 200 `{"ok":true}`. */
export type Responder = (req: RecordedRequest, index: number) => SinkResponse | number;

export interface HttpSink {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Replace the responder for the requests that follow. */
  respond(fn: Responder): void;
  /** Resolves with the requests once `n` arrived (or the predicate holds), else rejects. */
  waitFor(
    cond: number | ((requests: RecordedRequest[]) => boolean),
    timeoutMs?: number,
  ): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startHttpSink(responder?: Responder): Promise<HttpSink> {
  const requests: RecordedRequest[] = [];
  let respondWith: Responder = responder ?? (() => 200);
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        text,
        body,
        at: Date.now(),
      };
      const index = requests.length;
      requests.push(recorded);
      const out = respondWith(recorded, index);
      const response = typeof out === 'number' ? { status: out } : out;
      const answer = (): void => {
        if (response.reset) {
          req.socket.destroy();
          return;
        }
        res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
        res.end(response.body ?? JSON.stringify({ ok: response.status < 300 }));
      };
      if (response.delayMs) setTimeout(answer, response.delayMs);
      else answer();
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    respond(fn) {
      respondWith = fn;
    },
    waitFor(cond, timeoutMs = 10_000) {
      const done = (): boolean => (typeof cond === 'number' ? requests.length >= cond : cond(requests));
      if (done()) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!done()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`http sink: condition not met within ${timeoutMs} ms (${requests.length} requests)`),
          );
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

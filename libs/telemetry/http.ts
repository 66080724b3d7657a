// /metrics, /healthz (alive) and /readyz (ready for work) on a plain node:http server, so that
// probes keep answering whatever the service's own HTTP stack is doing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

import { TelemetryCodes, TelemetryError } from './errors.js';

export type Readiness = () => boolean | { ready: boolean; detail?: unknown };

export interface TelemetryServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  registry: Registry;
  readiness: Readiness;
}

export interface TelemetryServer {
  port: number;
  close(): Promise<void>;
}

export async function startTelemetryServer(opts: TelemetryServerOptions): Promise<TelemetryServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      let state: { ready: boolean; detail?: unknown };
      try {
        const r = opts.readiness();
        state = typeof r === 'boolean' ? { ready: r } : r;
      } catch (err) {
        state = { ready: false, detail: String(err) };
      }
      res
        .writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: state.ready ? 'ready' : 'not ready', detail: state.detail }));
    } else if (path === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new TelemetryError(
          TelemetryCodes.LISTEN_FAILED,
          `cannot listen on port ${opts.port}: ${err.message}; set CAIRN_METRICS_PORT to a free port`,
          { cause: err },
        ),
      ),
    );
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

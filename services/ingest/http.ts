// The Segment HTTP Tracking API on fastify: `POST /v1/track|identify|page|screen|group|alias|batch`
// with Segment's auth (HTTP Basic with the write key as user, or `writeKey` in the body), limits
// (32 KB per event, 500 KB and 2,500 events per batch) and answers (400 with a reason, 401, 200
// `{"success":true}`). Accepted events are published to `events.<type>` with Nats-Msg-Id =
// messageId and the answer waits for every JetStream ack: a 200 means stored in EVENTS. The
// NATS-side handler (event.ts) then normalizes, dedupes, resolves identity and routes them, so
// both doors share one path. Also /metrics, /healthz and /readyz.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import { headers, type MsgHdrs } from '@nats-io/transport-node';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';

import type { Bus } from '../../libs/bus/index.js';
import type { WriteKey } from '../../libs/config/index.js';
import {
  EVENT_TYPES,
  HTTP_LIMITS,
  parseEventJson,
  prepareHttpEvents,
  writeKeyFromBasicAuth,
  type HttpApiPath,
  type HttpLimits,
} from '../../libs/events/index.js';
import type { Logger } from '../../libs/telemetry/index.js';
import { capConnections, type ConnectionCaps } from './connections.js';
import type { IngestMetrics } from './metrics.js';

/** Error codes of HTTP answers (docs/ingest.md). */
export const HttpCodes = {
  UNAUTHORIZED: 'CAIRN_E_HTTP_UNAUTHORIZED',
  BAD_REQUEST: 'CAIRN_E_HTTP_BAD_REQUEST',
  TOO_LARGE: 'CAIRN_E_HTTP_TOO_LARGE',
  UNAVAILABLE: 'CAIRN_E_HTTP_UNAVAILABLE',
} as const;

/** The NATS header that names the source of an event's write key (`CAIRN_WRITE_KEYS` `key:source`). */
export const SOURCE_HEADER = 'Cairn-Source';

export const HTTP_PATHS: readonly HttpApiPath[] = [...EVENT_TYPES, 'batch'];
/** A connection with no traffic for this long is closed. */
export const HTTP_IDLE_TIMEOUT_MS = 30_000;
/** How often node:http looks for requests past their headers or request timeout. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Against clients that hold sockets: CAIRN_HTTP_* in docs/configuration.md. */
export interface HttpConnectionLimits extends ConnectionCaps {
  /** Time to send the request line and headers; then 408 and the connection is closed. */
  headersTimeoutMs: number;
  /** Time to send the whole request, body included; then 408 and the connection is closed. */
  requestTimeoutMs: number;
}

/** The defaults of the CAIRN_HTTP_* settings. */
export const HTTP_CONNECTION_LIMITS: Readonly<HttpConnectionLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 4096,
  maxConnectionsPerIp: 256,
});

export interface HttpApiOptions {
  port: number;
  host?: string;
  bus: Bus;
  writeKeys: readonly WriteKey[];
  registry: Registry;
  metrics: IngestMetrics;
  isReady: () => boolean;
  log: Logger;
  limits?: Partial<HttpLimits>;
  connections?: Partial<HttpConnectionLimits>;
}

export interface HttpApi {
  port: number;
  close(): Promise<void>;
}

interface Failure {
  status: number;
  code: string;
  message: string;
}

const fail = (status: number, code: string, message: string): Failure => ({ status, code, message });

const encoder = new TextEncoder();

export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApi> {
  const limits: HttpLimits = { ...HTTP_LIMITS, ...opts.limits };
  const keys = new Map(opts.writeKeys.map((k) => [k.key, k.source]));
  const { metrics, log } = opts;
  const conn: HttpConnectionLimits = { ...HTTP_CONNECTION_LIMITS, ...opts.connections };
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: limits.maxBatchBytes,
    connectionTimeout: HTTP_IDLE_TIMEOUT_MS,
    requestTimeout: conn.requestTimeoutMs,
    // node:http's own options: the headers timeout only counts when checked often.
    http: {
      headersTimeout: conn.headersTimeoutMs,
      requestTimeout: conn.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
  });
  capConnections(app.server, conn, (limit) => metrics.httpConnectionsRefused.inc({ limit }));
  // Any content type is read as bytes and parsed here (analytics.js sends text/plain beacons);
  // our own JSON parser gives the line and column of a syntax error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const answer = (reply: FastifyReply, path: string, f: Failure | undefined): FastifyReply => {
    const status = f?.status ?? 200;
    metrics.httpRequests.inc({ path, status: String(status) });
    if (!f) return reply.code(200).send({ success: true });
    if (f.status === 503) void reply.header('retry-after', '1');
    return reply.code(f.status).send({ success: false, code: f.code, message: f.message });
  };

  // Browsers (analytics.js) send cross-origin requests with Basic auth.
  app.addHook('onRequest', (_req, reply, done) => {
    void reply.header('access-control-allow-origin', '*');
    done();
  });
  app.options('/v1/:path', (_req, reply) => {
    void reply
      .code(204)
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-allow-headers', 'Content-Type, Authorization')
      .header('access-control-max-age', '86400')
      .send();
  });

  app.setErrorHandler((err: { code?: string; message: string; statusCode?: number }, req, reply) => {
    const path = (req.routeOptions.url ?? req.url).replace('/v1/', '');
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = req.routeOptions.bodyLimit ?? limits.maxBatchBytes;
      return answer(reply, path, fail(400, HttpCodes.TOO_LARGE, `the request body is over ${limit} bytes`));
    }
    if (err.statusCode !== undefined && err.statusCode < 500) {
      return answer(reply, path, fail(400, HttpCodes.BAD_REQUEST, err.message));
    }
    log.error({ err, url: req.url }, 'HTTP request failed');
    return answer(reply, path, fail(500, HttpCodes.UNAVAILABLE, 'internal error; retry'));
  });

  const authorize = (req: FastifyRequest, bodyKey: string | undefined): Failure | undefined => {
    const header = req.headers.authorization;
    const key = writeKeyFromBasicAuth(header) ?? bodyKey;
    if (key === undefined) {
      return fail(
        401,
        HttpCodes.UNAUTHORIZED,
        'no write key: send Authorization: Basic base64("<writeKey>:") or "writeKey" in the body',
      );
    }
    if (!keys.has(key)) return fail(401, HttpCodes.UNAUTHORIZED, 'the write key is not valid');
    return undefined;
  };

  const handle = async (path: HttpApiPath, req: FastifyRequest): Promise<Failure | undefined> => {
    if (!opts.isReady()) return fail(503, HttpCodes.UNAVAILABLE, 'ingest is not ready; retry');
    // A Basic key here is a valid one: a wrong one was refused before the body was read.
    const header = writeKeyFromBasicAuth(req.headers.authorization);
    const bytes = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
    // Without a Basic key, a body that cannot carry one is a 401 first.
    if (bytes.byteLength === 0) {
      return (
        (header === undefined ? authorize(req, undefined) : undefined) ??
        fail(400, HttpCodes.BAD_REQUEST, 'the body is empty; send a JSON object')
      );
    }
    const parsed = parseEventJson(bytes);
    if (!parsed.ok) {
      const unauthorized = header === undefined ? authorize(req, undefined) : undefined;
      return unauthorized ?? fail(400, HttpCodes.BAD_REQUEST, parsed.error.reason);
    }
    const prepared = prepareHttpEvents(path, parsed.value, { generateId: randomUUID, limits });
    const unauthorized = authorize(req, prepared.ok ? prepared.writeKey : bodyWriteKey(parsed.value));
    if (unauthorized) return unauthorized;
    if (!prepared.ok) return fail(400, prepared.code ?? HttpCodes.BAD_REQUEST, prepared.reason);

    // The source named with the write key travels as a header: the event body stays as sent.
    // Published on the lean path (libs/bus/lean.ts): the same headers and acks as the client's
    // JetStream publish, without its per-request costs.
    const source = keys.get(header ?? prepared.writeKey ?? '');
    const acks = prepared.events.map((e) => {
      let h: MsgHdrs | undefined;
      if (source !== undefined) (h = headers()).set(SOURCE_HEADER, source);
      return opts.bus.lean.publish(e.subject, encoder.encode(JSON.stringify(e.body)), {
        msgID: e.messageId,
        ...(h ? { headers: h } : {}),
      });
    });
    const results = await Promise.allSettled(acks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      log.warn({ err: failed.reason as unknown, path }, 'HTTP events not stored; the client retries');
      return fail(
        503,
        HttpCodes.UNAVAILABLE,
        'the events could not be stored; retry (duplicates are dropped)',
      );
    }
    // Counted per type, one counter update per type of the request, not one per event.
    const byType = new Map<string, number>();
    for (const e of prepared.events) byType.set(e.subject, (byType.get(e.subject) ?? 0) + 1);
    for (const [subject, n] of byType) metrics.httpEvents.inc({ type: subject.slice('events.'.length) }, n);
    return undefined;
  };

  // A wrong Basic key is refused before the body is read: the answer does not wait for a body
  // that may never come, and the connection closes after it (the unread body is not drained).
  const refuseWrongBasicKey =
    (path: HttpApiPath) => (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const key = writeKeyFromBasicAuth(req.headers.authorization);
      if (key === undefined || keys.has(key)) return done();
      void reply.header('connection', 'close');
      void answer(reply, path, authorize(req, undefined));
    };

  for (const path of HTTP_PATHS) {
    const bodyLimit = path === 'batch' ? limits.maxBatchBytes : limits.maxEventBytes;
    app.post(`/v1/${path}`, { bodyLimit, onRequest: refuseWrongBasicKey(path) }, async (req, reply) => {
      const failure = await handle(path, req);
      // elapsedTime runs from the request's arrival: body read, checks and every ack.
      if (!failure) metrics.httpAckSeconds.observe(reply.elapsedTime / 1000);
      return answer(reply, path, failure);
    });
  }

  // A person (or a probe) opening the port: where the API and its docs are.
  app.get('/', (_req, reply) => {
    void reply.send({
      service: 'cairn ingest: Segment HTTP Tracking API',
      api: HTTP_PATHS.map((path) => `POST /v1/${path}`),
      auth: 'Basic, the write key as user (CAIRN_WRITE_KEYS)',
      health: ['/healthz', '/readyz', '/metrics'],
      docs: "docs/ingest.md (README.md: Sending events with Segment's libraries)",
    });
  });
  app.get('/healthz', (_req, reply) => {
    void reply.send({ status: 'ok' });
  });
  app.get('/readyz', (_req, reply) => {
    const ready = opts.isReady();
    void reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', opts.registry.contentType).send(await opts.registry.metrics()),
  );

  await app.listen({ port: opts.port, host: opts.host ?? '0.0.0.0' });
  const port = (app.server.address() as AddressInfo).port;
  log.info({ port }, 'HTTP Tracking API listening');
  return { port, close: () => app.close() };
}

function bodyWriteKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const key = (value as { writeKey?: unknown }).writeKey;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

// The admin HTTP API on fastify: authentication, CORS, the audit of writes, errors in one shape,
// the routes under /api/v1 and the console's files at `/`. Built without listening, so the
// service (service.ts) and the tests share it.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import type { Bus } from '../../libs/bus/index.js';
import { InsightCodes, InsightError } from '../../libs/insight/index.js';
import type { AdminToken, Config } from '../../libs/config/index.js';
import type { Logger } from '../../libs/telemetry/index.js';
import { CliError, CodedError } from '../cli/operations.js';
import { writeAudit, type AuditRecord } from './audit.js';
import { serveConsole } from './console-files.js';
import { AdminCodes, AdminError } from './errors.js';
import { OPENAPI } from './openapi.js';
import { destinationRoutes } from './routes/destinations.js';
import { dlqRoutes } from './routes/dlq.js';
import { healthRoutes } from './routes/health.js';
import { journeyRoutes } from './routes/journeys.js';
import { statsRoutes } from './routes/stats.js';
import { toolRoutes } from './routes/tools.js';
import { userRoutes } from './routes/users.js';
import type { StatsSource } from './stats-source.js';
import { authenticate, bearerOf } from './tokens.js';

export const API_PREFIX = '/api/v1';
/** Readable without a token: the document describes the API, it holds no data. */
const PUBLIC_ROUTES = new Set([`${API_PREFIX}/openapi.json`]);

export interface AdminDeps {
  bus: Bus;
  config: Config;
  logger: Logger;
  stats: StatsSource;
  /** The built console (index.html and its assets), served at `/` when the directory exists. */
  consoleDir?: string;
  /** Tokens in use (default config.adminTokens; `cairn up` may add a one-off one). */
  tokens?: readonly AdminToken[];
}

/** What a route needs: the role that may call it, and how it answers. */
export type Role = 'read' | 'write';

export interface RouteContext extends AdminDeps {
  /** Names what a write touched, for its audit record. */
  auditTarget(req: FastifyRequest, target: Record<string, unknown>): void;
}

export interface AdminApp {
  app: FastifyInstance;
  /** Every registered route (method, URL pattern), as the OpenAPI test compares them. */
  routes: Array<{ method: string; url: string; role?: Role }>;
}

interface Caller {
  token: AdminToken;
  target?: Record<string, unknown>;
}

const STATUS_OF_KIND = { not_found: 404, invalid: 400, conflict: 409 } as const;

/** The error body of any failure, and its status. */
function failureOf(err: unknown): { status: number; code: string; body: object } {
  if (err instanceof AdminError) return { status: err.status, code: err.code, body: err.body() };
  if (err instanceof CodedError) {
    const status = STATUS_OF_KIND[err.kind];
    return { status, code: err.code, body: { error: { code: err.code, message: err.what, hint: err.fix } } };
  }
  if (err instanceof InsightError) {
    // The stats reader's codes, with the message and hint `cairn journey stats` prints.
    const status = err.code === InsightCodes.WINDOW ? 400 : 404;
    const message = err.message.startsWith(`${err.code}: `)
      ? err.message.slice(err.code.length + 2)
      : err.message;
    return { status, code: err.code, body: { error: { code: err.code, message, hint: err.hint } } };
  }
  if (err instanceof CliError) {
    const code = AdminCodes.BAD_REQUEST;
    return { status: 400, code, body: { error: { code, message: err.what, hint: err.fix } } };
  }
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's own: a body that is not JSON, too large, a wrong content type.
    const code = AdminCodes.BAD_REQUEST;
    const message = (err as Error).message;
    const hint =
      status === 413
        ? 'Send a smaller body (at most 2 MiB)'
        : 'Send a JSON body with content-type: application/json, as docs/console.md shows';
    return { status, code, body: { error: { code, message, hint } } };
  }
  const code = AdminCodes.INTERNAL;
  return {
    status: 500,
    code,
    body: {
      error: {
        code,
        message: 'the request failed inside the admin service',
        hint: 'Read the admin service log (it has the cause), then try again',
      },
    },
  };
}

export async function buildAdminApp(deps: AdminDeps): Promise<AdminApp> {
  const { config, logger } = deps;
  const log = logger.child({ component: 'admin-api' });
  const tokens = deps.tokens ?? config.adminTokens;
  const origins = new Set(config.adminCorsOrigins);
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024, return503OnClosing: true });
  const routes: AdminApp['routes'] = [];
  const callers = new WeakMap<FastifyRequest, Caller>();

  app.addHook('onRoute', (r) => {
    const config: unknown = r.config;
    const role = (config as { role?: Role } | undefined)?.role;
    for (const method of [r.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: r.url, ...(role !== undefined && { role }) });
  });

  const roleOf = (req: FastifyRequest): Role | undefined =>
    (req.routeOptions.config as { role?: Role } | undefined)?.role;

  // CORS: closed unless CAIRN_ADMIN_CORS_ORIGINS lists the page's origin.
  // (A reply is thenable: it is returned once sent, never awaited.)
  app.addHook('onRequest', (req, reply, done) => {
    const origin = req.headers.origin;
    if (origin === undefined || !origins.has(origin)) return done();
    void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      // A preflight is answered here (no token: browsers send none with it).
      void reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, DELETE')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .send();
      return;
    }
    done();
  });

  // Authentication and the role: every /api route but the OpenAPI document.
  const authorize = (req: FastifyRequest): void => {
    const path = req.url.split('?')[0]!;
    if (!path.startsWith('/api/') || PUBLIC_ROUTES.has(path)) return;
    const presented = bearerOf(req.headers.authorization);
    const token = presented === undefined ? undefined : authenticate(tokens, presented);
    if (!token) {
      throw new AdminError(
        401,
        AdminCodes.UNAUTHORIZED,
        presented === undefined ? 'no bearer token' : 'the bearer token is not one of CAIRN_ADMIN_TOKENS',
        'Send Authorization: Bearer <token> with a token of CAIRN_ADMIN_TOKENS (docs/console.md)',
      );
    }
    callers.set(req, { token });
    if (roleOf(req) === 'write' && token.role !== 'write') {
      throw new AdminError(
        403,
        AdminCodes.FORBIDDEN,
        `token ${token.name} is read-only; ${req.method} ${req.routeOptions.url ?? path} writes`,
        'Use a token with role write (CAIRN_ADMIN_TOKENS name:write:<token>)',
      );
    }
  };
  app.addHook('onRequest', (req, _reply, done) => {
    try {
      authorize(req);
      done();
    } catch (err) {
      done(err as Error);
    }
  });

  // The audit record of a write, stored before the answer leaves.
  app.addHook('onSend', async (req, reply, payload) => {
    const caller = callers.get(req);
    if (!caller || roleOf(req) !== 'write') return payload;
    const status = reply.statusCode;
    const record: AuditRecord = {
      v: 1,
      at: new Date().toISOString(),
      who: caller.token.name,
      role: caller.token.role,
      method: req.method,
      route: req.routeOptions.url ?? req.url,
      params: { ...(req.params as Record<string, string>) },
      ...(caller.target !== undefined && { target: caller.target }),
      outcome: status < 400 ? 'ok' : status === 401 || status === 403 ? 'refused' : 'failed',
      status,
      ...(status >= 400 && { code: codeOf(payload) }),
      ip: req.ip,
    };
    try {
      await writeAudit(deps.bus, record);
    } catch (err) {
      log.error({ err, audit: record }, 'audit record not stored');
    }
    return payload;
  });

  app.setErrorHandler((err, req, reply) => {
    const failure = failureOf(err);
    if (failure.status >= 500) log.error({ err, method: req.method, url: req.url }, 'admin request failed');
    return reply.code(failure.status).send(failure.body);
  });

  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    if (!path.startsWith('/api/') && (req.method === 'GET' || req.method === 'HEAD') && deps.consoleDir) {
      if (await serveConsole(deps.consoleDir, path, reply)) return reply;
    }
    const code = AdminCodes.NOT_FOUND;
    return reply.code(404).send({
      error: {
        code,
        message: `no route ${req.method} ${path}`,
        hint: `The routes are listed in ${API_PREFIX}/openapi.json`,
      },
    });
  });

  const ctx: RouteContext = {
    ...deps,
    auditTarget(req, target) {
      const caller = callers.get(req);
      if (caller) caller.target = target;
    },
  };
  app.get(`${API_PREFIX}/openapi.json`, (_req, reply) => reply.send(OPENAPI));
  // Who the bearer token is: the console hides write actions from read tokens.
  app.get(`${API_PREFIX}/whoami`, { config: { role: 'read' } }, (req) => {
    const { name, role } = callers.get(req)!.token;
    return { name, role };
  });
  await app.register(
    (api, _opts, done) => {
      journeyRoutes(api, ctx);
      statsRoutes(api, ctx);
      toolRoutes(api, ctx);
      userRoutes(api, ctx);
      destinationRoutes(api, ctx);
      dlqRoutes(api, ctx);
      healthRoutes(api, ctx);
      done();
    },
    { prefix: API_PREFIX },
  );
  await app.ready();
  return { app, routes };
}

function codeOf(payload: unknown): string | undefined {
  if (typeof payload !== 'string') return undefined;
  try {
    const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

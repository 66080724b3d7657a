// The admin service: the admin HTTP API and the web console on CAIRN_ADMIN_PORT (never the
// ingest port), on the lifecycle's connection. It consumes nothing: ready once it listens;
// stopping closes the listener (requests in flight finish, new ones get 503) and its connections.
import { fileURLToPath } from 'node:url';

import type { AdminToken } from '../../libs/config/index.js';
import type { RunningService, ServiceContext } from '../../libs/telemetry/index.js';
import { buildAdminApp } from './app.js';
import { statsSource, type StatsSource } from './stats-source.js';

/** Where the console's build lands: dist/console beside dist/services. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

export interface AdminOptions {
  /** Default config.adminPort (0: any free port). */
  port?: number;
  /** Default config.adminHost. */
  host?: string;
  /** Default config.adminTokens. */
  tokens?: readonly AdminToken[];
  /** Default dist/console; served when it holds an index.html. */
  consoleDir?: string;
  stats?: StatsSource;
}

export interface Admin extends RunningService {
  port: number;
  /** `http://<host>:<port>`, for messages. */
  url: string;
}

export async function startAdmin(ctx: ServiceContext, opts: AdminOptions = {}): Promise<Admin> {
  const { config } = ctx;
  const log = ctx.logger.child({ service: 'admin' });
  const { app } = await buildAdminApp({
    bus: ctx.bus,
    config,
    logger: log,
    stats: opts.stats ?? statsSource,
    consoleDir: opts.consoleDir ?? DEFAULT_CONSOLE_DIR,
    tokens: opts.tokens ?? config.adminTokens,
  });
  const host = opts.host ?? config.adminHost;
  await app.listen({ port: opts.port ?? config.adminPort, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  log.info({ port, host, tokens: (opts.tokens ?? config.adminTokens).length }, 'admin API listening');
  let stopped = false;
  return {
    port,
    url,
    isReady: () => !stopped,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
      log.info('admin API stopped');
    },
  };
}

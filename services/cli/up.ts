// `cairn up`: ingest, matcher, timer and sender in one process, one lifecycle, and one NATS
// connection per stage: a fault that makes the server close one stage's connection (a subject
// over its control-line limit, a slow consumer) never drops what the other stages have in
// flight. With no NATS at the default URL (and none asked for), a local nats-server is started.
// The admin HTTP API and the console run on the lifecycle's connection.
import { randomBytes } from 'node:crypto';

import { connectBus, connectOptionsOf, type Bus, type ServiceRole } from '../../libs/bus/index.js';
import { runService, type RunningService, type ServiceContext } from '../../libs/telemetry/index.js';
import { startAdmin } from '../admin/index.js';
import { startIngest } from '../ingest/index.js';
import { startMatcher } from '../matcher/index.js';
import { startSender } from '../sender/index.js';
import { startTimer } from '../timer/index.js';
import { parse } from './args.js';
import { CliError, type CliIo, type ExitCode } from './io.js';
import { LOCAL_STORE_DIR } from './local-nats.js';
import { upConnection } from './up-connection.js';

export const UP_HELP = `Usage: cairn up [--nats-url <url>]

Runs ingest (with the Segment HTTP Tracking API on CAIRN_HTTP_PORT, default 8088), matcher,
timer, sender and the admin HTTP API with the web console (CAIRN_ADMIN_PORT, default 8090) in
one process. Connects to --nats-url, else NATS_URL, else
nats://127.0.0.1:4222. Only when neither is given and nothing answers at that default, it
starts a local nats-server with JetStream (store in ${LOCAL_STORE_DIR}) and stops it on exit;
a given URL that does not answer is an error.
Ctrl-C (SIGINT) or SIGTERM drains and stops; a second one exits at once.

Development mode: unless CAIRN_EGRESS_ALLOW_LOOPBACK is set, cairn up sets it to true, so
that webhooks may reach a sink on localhost or a private network (and says so at start). The
services run on their own (node dist/services/<name>/main.js, the images) keep the guard:
loopback and private addresses are refused (CAIRN_EGRESS_DENY) unless allowed.

The HTTP API accepts only the write keys in CAIRN_WRITE_KEYS (e.g. wk_dev:local); without
any, every request gets 401, which cairn up says at start.

The admin API takes the bearer tokens of CAIRN_ADMIN_TOKENS (name:role:token); without any,
cairn up makes a one-off write token for this run and prints it (docs/console.md).

Example:
  CAIRN_WRITE_KEYS=wk_dev:local cairn up
  curl -u wk_dev: -H 'content-type: application/json' http://127.0.0.1:8088/v1/track \\
    -d '{"userId":"u1","event":"signed_up"}'

Options:
  --nats-url <url>   NATS to use (overrides NATS_URL)
  -h, --help         this help

Every CAIRN_* variable applies (docs/configuration.md).`;

export interface StartAllOptions {
  /** Serve the HTTP Tracking API on CAIRN_HTTP_PORT (`cairn up` does). */
  http?: boolean;
  /** Told the HTTP API's port once it listens. */
  onHttp?: (port: number) => void;
  /** Serve the admin HTTP API and the console on CAIRN_ADMIN_PORT (`cairn up` does). */
  admin?: boolean;
  /** Told the admin API's URL once it listens. */
  onAdmin?: (url: string) => void;
  /** Opens the connection of one stage (default: NATS_URL with the config's credentials). */
  connectStage?: (stage: ServiceRole) => Promise<Bus>;
}

/** A stage's connection: `cairn-up-<stage>`, replies under that stage's prefix. */
export function stageConnector(ctx: ServiceContext, url = ctx.config.natsUrl) {
  return (stage: ServiceRole): Promise<Bus> =>
    connectBus({
      url,
      name: `cairn-up-${stage}`,
      logger: ctx.logger,
      ...connectOptionsOf(ctx.config, stage),
    });
}

/**
 * Every service, started in dependency order (downstream first, so nothing waits on a gap), each
 * on its own connection, closed after the service stopped. The lifecycle's connection only
 * provisions.
 */
export async function startAllServices(
  ctx: ServiceContext,
  opts: StartAllOptions = {},
): Promise<RunningService[]> {
  const connectStage = opts.connectStage ?? stageConnector(ctx);
  const started: RunningService[] = [];
  const onOwnBus = async <S extends RunningService>(
    stage: ServiceRole,
    start: (c: ServiceContext) => Promise<S>,
  ): Promise<S> => {
    const bus = await connectStage(stage);
    let service: S;
    try {
      service = await start({ ...ctx, bus });
    } catch (err) {
      await bus.close().catch(() => undefined);
      throw err;
    }
    const stop = service.stop.bind(service);
    service.stop = async (graceMs) => {
      try {
        await stop(graceMs);
      } finally {
        await bus.close().catch(() => undefined);
      }
    };
    started.push(service);
    return service;
  };
  try {
    await onOwnBus('sender', startSender);
    await onOwnBus('timer', startTimer);
    await onOwnBus('matcher', startMatcher);
    const ingest = await onOwnBus('ingest', (c) => startIngest(c, { http: opts.http ?? false }));
    if (ingest.httpPort !== undefined) opts.onHttp?.(ingest.httpPort);
    if (opts.admin) {
      const admin = await startAdmin(ctx);
      started.push(admin);
      opts.onAdmin?.(admin.url);
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.stop(0)));
    throw err;
  }
  return started;
}

/**
 * The environment `cairn up` runs with: a development one, where webhooks may reach loopback
 * and private addresses unless CAIRN_EGRESS_ALLOW_LOOPBACK says otherwise. Says so on stderr.
 */
export function devEnv(io: CliIo): Record<string, string | undefined> {
  if (io.env['CAIRN_EGRESS_ALLOW_LOOPBACK'] !== undefined) return io.env;
  io.err(
    'cairn up: development mode: webhooks may reach loopback and private addresses (CAIRN_EGRESS_ALLOW_LOOPBACK=true); set CAIRN_EGRESS_ALLOW_LOOPBACK=false to keep the guard the services have',
  );
  return { ...io.env, CAIRN_EGRESS_ALLOW_LOOPBACK: 'true' };
}

export async function upCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values } = parse(
    argv,
    { help: { type: 'boolean', short: 'h' }, 'nats-url': { type: 'string' } },
    'cairn up',
  );
  if (values.help) {
    io.out(UP_HELP);
    return 0;
  }
  const natsUrl = values['nats-url'];
  const env = { ...devEnv(io) };
  if ((env['CAIRN_WRITE_KEYS'] ?? '').trim() === '') {
    io.err(
      'cairn up: CAIRN_WRITE_KEYS is empty, so every HTTP Tracking API request will get 401; set write keys, e.g. CAIRN_WRITE_KEYS=wk_dev:local, and send with the key as Basic auth user (curl -u wk_dev: …). Events published on NATS need no key',
    );
  }
  let adminToken: string | undefined;
  if ((env['CAIRN_ADMIN_TOKENS'] ?? '').trim() === '') {
    adminToken = randomBytes(24).toString('base64url');
    env['CAIRN_ADMIN_TOKENS'] = `cairn-up:write:${adminToken}`;
  }
  const connection = upConnection(io, natsUrl !== undefined || io.env['NATS_URL'] !== undefined);
  let httpPort: number | undefined;
  let adminUrl: string | undefined;
  await runService({
    name: 'up',
    start: (ctx) =>
      startAllServices(ctx, {
        http: true,
        onHttp: (port) => (httpPort = port),
        admin: true,
        onAdmin: (url) => (adminUrl = url),
        // The URL in use: a local nats-server's when one was started.
        connectStage: stageConnector(ctx, connection.url()),
      }),
    env,
    configure: (config) => (natsUrl === undefined ? config : { ...config, natsUrl }),
    connect: (config, logger) =>
      connection.connect(config, logger).catch((err: unknown) => {
        // A CliError from the embedded server reads better without the lifecycle's prefix.
        if (err instanceof CliError) {
          io.err(err.message);
          process.exit(err.exitCode);
        }
        throw err;
      }),
    afterStop: () => connection.afterStop(),
    onReady: (lifecycle) => {
      if (httpPort !== undefined)
        io.err(`cairn up: Segment HTTP Tracking API on :${httpPort} (POST /v1/batch)`);
      if (adminUrl !== undefined) {
        io.err(`cairn up: admin API and console on ${adminUrl} (API ${adminUrl}/api/v1, docs/console.md)`);
        if (adminToken !== undefined)
          io.err(
            `cairn up: CAIRN_ADMIN_TOKENS is empty: a one-off write token for this run: ${adminToken} (curl -H 'authorization: Bearer ${adminToken}' ${adminUrl}/api/v1/health); set CAIRN_ADMIN_TOKENS to keep your own`,
          );
      }
      io.err(`cairn up: ready (NATS ${connection.url()}, HTTP metrics on :${lifecycle.metricsPort})`);
    },
  });
  // Keeps running until a signal; runService exits the process.
  return new Promise<ExitCode>(() => undefined);
}

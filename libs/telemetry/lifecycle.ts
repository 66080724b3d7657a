// The process lifecycle every Cairn service shares (STYLE.md rule 9): starting -> ready ->
// draining -> stopped. Config is parsed once here, at the edge (rule 8), then passed down.
// On SIGTERM/SIGINT: readiness off, each service stops within the grace period, the NATS
// connection drains, the telemetry server closes, exit 0. A second signal exits at once.
import { BusError, connectBus, connectOptionsOf, provision, type Bus } from '../bus/index.js';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { startDlqGauges, type Poller } from './gauges.js';
import { startTelemetryServer, type TelemetryServer } from './http.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

/** What a service's `start` returns. */
export interface RunningService {
  isReady(): boolean;
  stop(graceMs: number): Promise<void>;
}

export interface ServiceContext {
  config: Config;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
}

export type StartFn = (ctx: ServiceContext) => Promise<RunningService | RunningService[]>;

export interface LifecycleOptions {
  /** The service name: the logger's name and the NATS client name. */
  name: string;
  start: StartFn;
  config: Config;
  logger?: Logger;
  /** How to reach NATS (default connectBus on config.natsUrl). */
  connect?: (config: Config, logger: Logger) => Promise<Bus>;
  /** Runs after the connection closed (e.g. stop an embedded nats-server). */
  afterStop?: () => Promise<void>;
}

export interface Lifecycle {
  readonly state: LifecycleState;
  config: Config;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  /** The port /metrics, /healthz and /readyz answer on. */
  metricsPort: number;
  isReady(): boolean;
  /** Draining then stopped; safe to call more than once. */
  stop(): Promise<void>;
}

/** Connects, provisions, starts the services and the telemetry server. Throws on failure. */
export async function startLifecycle(opts: LifecycleOptions): Promise<Lifecycle> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ name: opts.name, level: config.logLevel });
  let state: LifecycleState = 'starting';
  logger.info({ state }, 'lifecycle');
  const metrics = createMetrics();
  const bus = await (opts.connect ?? defaultConnect(opts.name))(config, logger);
  let services: RunningService[] = [];
  let telemetry: TelemetryServer | undefined;
  let dlqGauges: Poller | undefined;
  try {
    await provision(bus, config, logger);
    dlqGauges = startDlqGauges(bus, metrics, config.metricsIntervalMs, logger);
    const started = await opts.start({ config, bus, logger, metrics });
    services = Array.isArray(started) ? started : [started];
    const isReady = (): boolean =>
      state === 'ready' && !bus.nc.isClosed() && services.every((s) => s.isReady());
    telemetry = await startTelemetryServer({
      port: config.metricsPort,
      registry: metrics.registry,
      readiness: () => ({ ready: isReady(), detail: { state } }),
    });
    state = 'ready';
    logger.info({ state, metricsPort: telemetry.port }, 'lifecycle');
    let stopping: Promise<void> | undefined;
    const server = telemetry;
    return {
      get state() {
        return state;
      },
      config,
      bus,
      logger,
      metrics,
      metricsPort: server.port,
      isReady,
      stop() {
        stopping ??= (async () => {
          state = 'draining';
          logger.info({ state, graceMs: config.shutdownGraceMs }, 'lifecycle');
          await stopAll(services, config.shutdownGraceMs, logger);
          await dlqGauges?.stop();
          await bus.close().catch((err: unknown) => logger.warn({ err }, 'bus close failed'));
          await server.close();
          await opts.afterStop?.();
          state = 'stopped';
          logger.info({ state }, 'lifecycle');
        })();
        return stopping;
      },
    };
  } catch (err) {
    // A failed start leaves nothing running behind it.
    await stopAll(services, 0, logger);
    await dlqGauges?.stop();
    await telemetry?.close();
    await bus.close().catch(() => undefined);
    await opts.afterStop?.();
    throw err;
  }
}

function defaultConnect(name: string) {
  return (config: Config, logger: Logger): Promise<Bus> =>
    connectBus({
      url: config.natsUrl,
      name: `cairn-${name}`,
      logger,
      ...connectOptionsOf(config, name),
    });
}

async function stopAll(services: RunningService[], graceMs: number, logger: Logger): Promise<void> {
  const results = await Promise.allSettled(services.map((s) => s.stop(graceMs)));
  for (const r of results)
    if (r.status === 'rejected') logger.error({ err: r.reason as unknown }, 'stop failed');
}

/** One line for a failed start, and the exit code: 2 for bad config, 1 otherwise. */
export function describeStartFailure(name: string, err: unknown): { line: string; code: number } {
  if (err instanceof ConfigError) return { line: err.message, code: 2 };
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BusError) return { line: `cairn ${name}: ${message}`, code: 1 };
  return { line: `cairn ${name}: failed to start: ${message}`, code: 1 };
}

export interface RunServiceOptions {
  name: string;
  start: StartFn;
  /** The environment (default process.env): read here, once. */
  env?: Record<string, string | undefined>;
  /** Replaces config -> bus (cairn up's embedded nats-server). */
  connect?: LifecycleOptions['connect'];
  afterStop?: LifecycleOptions['afterStop'];
  /** Adjusts the parsed config (CLI flags). */
  configure?: (config: Config) => Config;
  /** Called once every service is ready. */
  onReady?: (lifecycle: Lifecycle) => void;
}

/** The main of a service process: runs until SIGTERM/SIGINT, then exits. */
export async function runService(opts: RunServiceOptions): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(opts.env ?? process.env);
    if (opts.configure) config = opts.configure(config);
  } catch (err) {
    const { line, code } = describeStartFailure(opts.name, err);
    process.stderr.write(`${line}\n`);
    process.exit(code);
  }
  let lifecycle: Lifecycle;
  try {
    lifecycle = await startLifecycle({
      name: opts.name,
      start: opts.start,
      config,
      ...(opts.connect && { connect: opts.connect }),
      ...(opts.afterStop && { afterStop: opts.afterStop }),
    });
  } catch (err) {
    const { line, code } = describeStartFailure(opts.name, err);
    process.stderr.write(`${line}\n`);
    process.exit(code);
  }
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      lifecycle.logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    signalled = true;
    lifecycle.logger.info({ signal }, 'shutdown requested');
    lifecycle.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        lifecycle.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  opts.onReady?.(lifecycle);
}

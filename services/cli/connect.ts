// The connection an admin command (journey, destination, inspect) uses: NATS_URL or --nats-url,
// provisioned (idempotent) so that publishing works before the services first ran.
import {
  BusCodes,
  BusError,
  connectBus,
  connectOptionsOf,
  provision,
  type Bus,
} from '../../libs/bus/index.js';
import { ConfigError, loadConfig, type Config } from '../../libs/config/index.js';
import { createLogger } from '../../libs/telemetry/index.js';
import { CliError, type CliIo } from './io.js';

export function cliConfig(io: CliIo, natsUrl?: string): Config {
  try {
    const config = loadConfig(io.env);
    return natsUrl === undefined ? config : { ...config, natsUrl };
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 'Fix the environment variables above', 2);
    throw err;
  }
}

/** Runs `fn` with a connected, provisioned bus, closed afterwards. */
export async function withBus<T>(
  io: CliIo,
  natsUrl: string | undefined,
  fn: (bus: Bus, config: Config) => Promise<T>,
): Promise<T> {
  const config = cliConfig(io, natsUrl);
  const logger = createLogger({ name: 'cli', level: 'silent' });
  let bus: Bus;
  try {
    bus = await connectBus({
      url: config.natsUrl,
      name: 'cairn-cli',
      logger,
      connectTimeoutMs: 3_000,
      ...connectOptionsOf(config, 'admin'),
    });
  } catch (err) {
    if (
      err instanceof BusError &&
      (err.code === BusCodes.UNAUTHORIZED || err.code === BusCodes.CREDENTIALS_UNREADABLE)
    ) {
      throw new CliError(
        err.message,
        'Set NATS_NKEY to the admin seed of `cairn auth init` (docs/security.md)',
      );
    }
    if (err instanceof BusError) {
      throw new CliError(
        `cannot reach NATS at ${config.natsUrl}`,
        'Start Cairn with `cairn up` (or a nats-server with -js), or set NATS_URL / --nats-url',
      );
    }
    throw err;
  }
  try {
    await provision(bus, config, logger);
    return await fn(bus, config);
  } finally {
    await bus.close();
  }
}

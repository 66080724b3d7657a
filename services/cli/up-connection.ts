// How `cairn up` reaches NATS: the configured URL, or, when nothing answers at the default and
// no URL was given, a local nats-server started for the session.
import { BusCodes, BusError, connectBus, connectOptionsOf, type Bus } from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import type { Logger } from '../../libs/telemetry/index.js';
import type { CliIo } from './io.js';
import { startLocalNats, type LocalNats } from './local-nats.js';

export interface UpConnection {
  connect(config: Config, logger: Logger): Promise<Bus>;
  /** The URL in use once connected. */
  url(): string;
  afterStop(): Promise<void>;
}

/** connectBus, falling back to a local nats-server when allowed. */
export function upConnection(io: CliIo, explicitUrl: boolean): UpConnection {
  let local: LocalNats | undefined;
  let url = '';
  return {
    async connect(config, logger) {
      const options = (u: string) => ({
        url: u,
        name: 'cairn-up',
        logger,
        ...connectOptionsOf(config, 'up'),
      });
      url = config.natsUrl;
      try {
        return await connectBus({ ...options(url), connectTimeoutMs: explicitUrl ? 5_000 : 1_000 });
      } catch (err) {
        if (explicitUrl || !(err instanceof BusError) || err.code !== BusCodes.UNREACHABLE) throw err;
      }
      local = await startLocalNats(io.cwd);
      io.err(
        `cairn up: no NATS at ${url}; started a local nats-server on ${local.url} (store ${local.storeDir})`,
      );
      url = local.url;
      return connectBus(options(url));
    },
    url: () => url,
    async afterStop() {
      await local?.stop();
    },
  };
}

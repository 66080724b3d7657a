// Setting up Cairn for a scenario: a fresh nats-server, a provisioned bus in the bench process
// (to publish journeys, destinations and load), and the services under test in a forked worker.
import {
  connectBus,
  parseDestinationFile,
  provision,
  publishJourneyVersion,
  putDestination,
  type Bus,
} from '../libs/bus/index.js';
import { loadConfig, type Config } from '../libs/config/index.js';
import { parseJourney, type JourneyDocument } from '../libs/journey/index.js';
import { createLogger } from '../libs/telemetry/index.js';
import { startWorker, type Worker } from './child.js';
import { startServer, type BenchServer } from './env.js';

export const benchLogger = createLogger({ name: 'bench', level: process.env['BENCH_LOG'] ?? 'error' });

export interface Rig {
  server: BenchServer;
  bus: Bus;
  config: Config;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A fresh server and a provisioned bus; `env` is the CAIRN_* environment the worker gets too. */
export async function startRig(
  env: Record<string, string> = {},
  opts: { monitor?: boolean } = {},
): Promise<Rig> {
  const server = await startServer(opts);
  const fullEnv = { CAIRN_EGRESS_ALLOW_LOOPBACK: 'true', ...env, NATS_URL: server.url };
  const config = loadConfig(fullEnv);
  const bus = await connectBus({ url: server.url, name: 'bench', logger: benchLogger });
  await provision(bus, config, benchLogger);
  return {
    server,
    bus,
    config,
    env: fullEnv,
    async close() {
      // A drain can stall on an overloaded server: give it a few seconds, then just close.
      await Promise.race([bus.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
      await bus.nc.close().catch(() => undefined);
      await server.stop();
    },
  };
}

export function journey(text: string): JourneyDocument {
  const parsed = parseJourney(text);
  if (!parsed.ok) throw new Error(`bench journey invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.journey;
}

export async function publishJourneys(bus: Bus, ...texts: string[]): Promise<JourneyDocument[]> {
  const docs = texts.map(journey);
  for (const doc of docs) await publishJourneyVersion(bus, doc);
  return docs;
}

export async function addWebhook(bus: Bus, id: string, url: string): Promise<void> {
  await putDestination(bus, parseDestinationFile({ id, type: 'webhook', url }));
}

/** The services named (default all four) in a forked worker on the rig's server. */
export function startCairn(
  rig: Rig,
  services: string[] = ['ingest', 'matcher', 'timer', 'sender'],
  cpuProfDir?: string,
): Promise<Worker> {
  return startWorker({ env: { ...rig.env, BENCH_SERVICES: services.join(',') }, cpuProfDir });
}

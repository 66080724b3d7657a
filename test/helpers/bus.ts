// A connected, provisioned bus on a fresh nats-server, torn down with the test.
import { connectBus, provision, type Bus } from '../../libs/bus/index.js';
import { loadConfig, type Config } from '../../libs/config/index.js';
import { createLogger, type Logger } from '../../libs/telemetry/index.js';
import { withNats, type NatsServerHandle } from './nats-server.js';

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export const silentLogger: Logger = createLogger({
  name: 'test',
  level: process.env['CAIRN_TEST_LOG'] ?? 'silent',
});

export interface TestBus {
  server: NatsServerHandle;
  bus: Bus;
  config: Config;
}

export async function withBus(t: Teardownable, env: Record<string, string> = {}): Promise<TestBus> {
  const server = await withNats(t);
  const config = loadConfig({ ...env, NATS_URL: server.url });
  const bus = await connectBus({ url: server.url, name: 'test', logger: silentLogger });
  t.teardown(() => bus.close());
  await provision(bus, config, silentLogger);
  return { server, bus, config };
}

/** Polls `cond` until it is true, failing after `timeoutMs` (no fixed sleeps in tests). */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Makes every write to a KV bucket fail (its stream takes no message over 1 byte) until the
 * returned function restores it: a transient fault the handlers retry, unlike a corrupt value,
 * which is dead-lettered at once.
 */
export async function refuseWrites(bus: Bus, bucket: string): Promise<() => Promise<void>> {
  const stream = `KV_${bucket}`;
  const { config } = await bus.jsm.streams.info(stream);
  await bus.jsm.streams.update(stream, { ...config, max_msg_size: 1 });
  return async () => {
    await bus.jsm.streams.update(stream, { ...config });
  };
}

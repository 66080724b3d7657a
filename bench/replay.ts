// `cairn replay` throughput: N events published to EVENTS on a fresh nats-server (users with a
// cart, about half of them buying in time, page views nobody listens to), a journey with a hold
// and a split, then the replay run 3 times in a child process; prints events/s (median) and the
// child's peak RSS. `node dist/bench/replay.js [events] [--no-profiles]`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import {
  connectBus,
  parseDestinationFile,
  provision,
  publishJourneyVersion,
  putDestination,
} from '../libs/bus/index.js';
import { loadConfig } from '../libs/config/index.js';
import { parseJourney } from '../libs/journey/index.js';
import { createLogger } from '../libs/telemetry/index.js';
import { machine, startServer } from './env.js';

const JOURNEY = `
id: cart
name: Cart abandonment
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 30m, next: big }
  - id: big
    type: data_split
    branches:
      - { id: large, where: { entry.properties.total: { gte: 100 } }, next: nudge }
    else: end
  - { id: nudge, type: send, to: [sink], event: Cart Abandoned, next: end }
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

interface Run {
  ms: number;
  cpuMs: number;
  read: number;
  maxRssKb: number;
}

const args = process.argv.slice(2);
const total = Number(args.find((a) => /^\d+$/.test(a)) ?? 200_000);
const extra = args.filter((a) => a.startsWith('--'));

const server = await startServer();
try {
  const logger = createLogger({ name: 'bench', level: 'silent' });
  const config = loadConfig({ NATS_URL: server.url });
  const bus = await connectBus({ url: server.url, name: 'bench-replay', logger });
  await provision(bus, config, logger);
  await putDestination(
    bus,
    parseDestinationFile({ id: 'sink', type: 'webhook', url: 'https://example.com/hook' }),
  );
  const parsed = parseJourney(JOURNEY);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  await publishJourneyVersion(bus, parsed.journey);

  const users = Math.max(1, Math.floor(total / 10));
  const pending = new Set<Promise<unknown>>();
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const user = `user-${i % users}`;
    const round = Math.floor(i / users);
    const kind = round % 5;
    const body =
      kind === 0 || kind === 2
        ? {
            type: 'track',
            event: 'checkout_started',
            userId: user,
            properties: { cart_id: `c${round}`, total: (i * 37) % 200 },
          }
        : kind === 1 && i % 2 === 0
          ? {
              type: 'track',
              event: 'purchase_completed',
              userId: user,
              properties: { cart_id: `c${round - 1}` },
            }
          : { type: 'page', name: 'Home', userId: user, properties: { path: '/' } };
    const p = bus.js.publish(`events.${body.type}`, JSON.stringify({ ...body, messageId: `m-${i}` }));
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    if (pending.size >= 512) await Promise.race(pending);
  }
  await Promise.all(pending);
  await bus.close();
  process.stderr.write(`published ${total} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  const child = fileURLToPath(new URL('./replay-child.js', import.meta.url));
  const runs: Run[] = [];
  for (let run = 0; run < 3; run++) {
    const r = spawnSync(
      process.execPath,
      [...process.execArgv, child, 'replay', 'cart', '--since', '1h', '--out', '/dev/null', ...extra],
      {
        env: { ...process.env, NATS_URL: server.url },
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new Error(`replay failed: ${r.stderr}${r.stdout}`);
    const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Run;
    runs.push(result);
    process.stderr.write(
      `run ${run + 1}: ${result.read} events in ${result.ms} ms (CPU ${result.cpuMs} ms), peak RSS ${Math.round(result.maxRssKb / 1024)} MB\n`,
    );
  }
  const rates = runs.map((r) => (r.read / r.ms) * 1000).sort((a, b) => a - b);
  const median = rates[1] ?? 0;
  // The machine may be shared: events per second of the replay's own CPU time tell its cost.
  const cpuRates = runs.map((r) => (r.read / r.cpuMs) * 1000).sort((a, b) => a - b);
  const m = machine();
  console.log(
    `replay  ${Math.round(median)} events/s (median of 3)  ${Math.round(cpuRates[1] ?? 0)} events per CPU-second  peak RSS ${Math.round(Math.max(...runs.map((r) => r.maxRssKb)) / 1024)} MB  ` +
      `${total} events  ${m.cores} cores, ${m.cpu}, node ${m.node}, nats-server ${m.natsServer}`,
  );
} finally {
  await server.stop();
}

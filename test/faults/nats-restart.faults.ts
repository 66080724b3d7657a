// Fault scenario (single node): the nats-server restarted mid-run, once gracefully (SIGTERM) and
// once killed (SIGKILL) and started again on the same store, while users go through holds, delays,
// splits and sends. The producer retries its publishes until acked, as a producer must.
import t from 'tap';

import { judge } from './verdict.js';
import { HOLD_MS, JOURNEYS, startWorkload } from './workload.js';
import { between, inject, sleep, startWorld } from './world.js';

const USERS = Number(process.env['CAIRN_FAULTS_USERS'] ?? 600);
const SPREAD_MS = 15_000;

void t.test('a nats-server restarted mid-run loses and repeats nothing', async (t) => {
  const world = await startWorld(t, { name: 'nats-restart', journeys: JOURNEYS });
  const server = world.server;
  if (!server) throw new Error('single-node world without a server');
  const first = between(world, 2_000, SPREAD_MS / 2);
  const second = between(world, SPREAD_MS / 2 + 2_000, SPREAD_MS + HOLD_MS);
  t.comment(`restart (SIGTERM) at ${first} ms, SIGKILL and start at ${second} ms`);
  const workload = startWorkload(world.bus, USERS, SPREAD_MS);
  const t0 = Date.now();

  await sleep(Math.max(0, t0 + first - Date.now()));
  await inject(world, 'nats restart', 'SIGTERM', true, async () => {
    await server.restart();
  });
  await sleep(Math.max(0, t0 + second - Date.now()));
  await inject(world, 'nats restart', 'SIGKILL', true, async () => {
    await server.kill();
    await sleep(between(world, 500, 2_000));
    await server.start();
  });
  await judge(t, world, workload);
});

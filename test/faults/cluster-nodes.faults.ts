// Fault scenario (3-node cluster, every stream and bucket at R3): a node SIGKILLed and started
// again, then another, while users go through holds, delays, splits and sends (DESIGN §5.8).
import t from 'tap';

import { judge } from './verdict.js';
import { HOLD_MS, JOURNEYS, startWorkload } from './workload.js';
import { between, inject, sleep, startWorld } from './world.js';

const USERS = Number(process.env['CAIRN_FAULTS_USERS'] ?? 600);
const SPREAD_MS = 15_000;

void t.test('a node of an R3 cluster lost and back, then another: nothing lost or repeated', async (t) => {
  const world = await startWorld(t, { name: 'cluster-nodes', journeys: JOURNEYS, cluster: true });
  const cluster = world.cluster;
  if (!cluster) throw new Error('cluster world without a cluster');
  const firstNode = Math.floor(world.random() * 3);
  const secondNode = (firstNode + 1 + Math.floor(world.random() * 2)) % 3;
  const first = between(world, 2_000, SPREAD_MS / 2);
  const second = between(world, SPREAD_MS / 2 + 4_000, SPREAD_MS + HOLD_MS);
  t.comment(
    `${cluster.names[firstNode]} killed at ${first} ms, ${cluster.names[secondNode]} at ${second} ms`,
  );
  const workload = startWorkload(world.bus, USERS, SPREAD_MS);
  const t0 = Date.now();

  for (const [i, at] of [
    [firstNode, first],
    [secondNode, second],
  ] as const) {
    await sleep(Math.max(0, t0 + at - Date.now()));
    const node = cluster.nodes[i]!;
    await inject(world, 'node SIGKILL', cluster.names[i]!, true, async () => {
      await node.kill();
      await sleep(between(world, 2_000, 5_000));
      await node.start();
      await cluster.ready(60_000);
    });
  }
  await judge(t, world, workload);
});

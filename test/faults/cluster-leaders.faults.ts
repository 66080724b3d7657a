// Fault scenario (3-node cluster, every stream and bucket at R3): the leader of MATCH, then of
// TIMERS, then of the `instances` bucket (stream KV_instances) SIGKILLed and started again while
// users arrive — the matcher's CAS updates of instances are at their heaviest (DESIGN §5.8).
import t from 'tap';

import { judge } from './verdict.js';
import { JOURNEYS, startWorkload } from './workload.js';
import { between, inject, sleep, startWorld } from './world.js';

const USERS = Number(process.env['CAIRN_FAULTS_USERS'] ?? 600);
const SPREAD_MS = 20_000;

void t.test('the leaders of MATCH, TIMERS and instances killed under CAS load: nothing lost', async (t) => {
  const world = await startWorld(t, { name: 'cluster-leaders', journeys: JOURNEYS, cluster: true });
  const cluster = world.cluster;
  if (!cluster) throw new Error('cluster world without a cluster');
  const workload = startWorkload(world.bus, USERS, SPREAD_MS);

  for (const stream of ['MATCH', 'TIMERS', 'KV_instances']) {
    // Users keep arriving through all three: each kill lands among CAS updates of instances.
    await sleep(between(world, 1_000, 3_000));
    const leader = await cluster.leaderOf(stream);
    const name = cluster.names[cluster.nodes.indexOf(leader)] ?? '?';
    t.comment(`leader of ${stream}: ${name}`);
    await inject(world, `leader SIGKILL ${stream}`, name, true, async () => {
      await leader.kill();
      await sleep(between(world, 2_000, 4_000));
      await leader.start();
      await cluster.ready(60_000);
    });
  }
  await judge(t, world, workload);
});

// Fault scenario (single node): every service SIGKILLed twice at seeded random moments, and one
// SIGSTOPped for longer than ack wait (2 s here) and then continued, while users go through
// holds, delays, splits and sends. Each service's faults run on their own schedule, so faults of
// different services overlap. The verdict (verdict.ts) compares with the simulator.
import t from 'tap';

import { judge } from './verdict.js';
import { HOLD_MS, JOURNEYS, startWorkload } from './workload.js';
import { between, inject, SERVICES, sleep, startWorld, type World } from './world.js';
import type { ServiceName } from '../e2e/processes.js';

const USERS = Number(process.env['CAIRN_FAULTS_USERS'] ?? 600);
const SPREAD_MS = 15_000;
const KILLS_PER_SERVICE = 2;

/** One service's faults: `kills` SIGKILLs (and a SIGSTOP when `stop`) at random moments. */
async function chaos(
  world: World,
  name: ServiceName,
  moments: number[],
  stopAt: number | undefined,
): Promise<void> {
  const t0 = Date.now();
  const plan = [
    ...moments.map((at) => ({ at, stop: false })),
    ...(stopAt === undefined ? [] : [{ at: stopAt, stop: true }]),
  ];
  plan.sort((a, b) => a.at - b.at);
  for (const { at, stop } of plan) {
    await sleep(Math.max(0, t0 + at - Date.now()));
    if (stop) {
      await inject(world, 'SIGSTOP', name, false, async () => {
        world.signal(name, 'SIGSTOP');
        if (name === 'sender') await world.snapshotUnrecorded();
        await sleep(between(world, 4_000, 6_000)); // ack wait is 2 s
        world.signal(name, 'SIGCONT');
      });
    } else {
      await inject(world, 'SIGKILL', name, false, async () => {
        await world.kill(name);
        if (name === 'sender') await world.snapshotUnrecorded();
        await sleep(between(world, 200, 2_000));
        await world.start(name);
      });
    }
  }
}

void t.test('services SIGKILLed and SIGSTOPped mid-run lose and repeat nothing', async (t) => {
  const world = await startWorld(t, { name: 'service-kills', journeys: JOURNEYS });
  const window = SPREAD_MS + HOLD_MS;
  const stopped = SERVICES[Math.floor(world.random() * SERVICES.length)] ?? 'matcher';
  const schedule = SERVICES.map((name) => ({
    name,
    moments: Array.from({ length: KILLS_PER_SERVICE }, () => between(world, 500, window)),
    stopAt: name === stopped ? between(world, 500, window) : undefined,
  }));
  for (const s of schedule) {
    t.comment(
      `${s.name}: SIGKILL at ${s.moments.map((m) => `${m} ms`).join(', ')}${s.stopAt === undefined ? '' : `; SIGSTOP at ${s.stopAt} ms`}`,
    );
  }
  const workload = startWorkload(world.bus, USERS, SPREAD_MS);
  await Promise.all(schedule.map((s) => chaos(world, s.name, s.moments, s.stopAt)));
  await judge(t, world, workload);
});

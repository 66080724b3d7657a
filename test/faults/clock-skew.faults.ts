// Fault scenario (single node): the timer's host clock runs 4 s ahead of the NATS server's and
// ingest's 3 s behind (libfaketime shifts each process's wall clock), while users go through
// holds, delays, splits and sends. Both services measure their offset from the server at start
// and correct for it (libs/bus/server-clock.ts): no timed send goes out before its deadline, and
// every delivery arrives. Without the correction the timer fires ~4 s early.
import { existsSync } from 'node:fs';

import t from 'tap';

import { judge } from './verdict.js';
import { JOURNEYS, startWorkload } from './workload.js';
import { LIBFAKETIME, startWorld } from './world.js';

const USERS = Number(process.env['CAIRN_FAULTS_USERS'] ?? 600);
const SPREAD_MS = 15_000;

void t.test('a timer host ahead of the server and an ingest host behind it', async (t) => {
  if (!existsSync(LIBFAKETIME)) {
    throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime (.ci/run installs it)`);
  }
  const world = await startWorld(t, {
    name: 'clock-skew',
    journeys: JOURNEYS,
    clocks: { timer: '+4s', ingest: '-3s' },
  });
  world.log('timer clock +4 s, ingest clock -3 s');
  const workload = startWorkload(world.bus, USERS, SPREAD_MS);
  await judge(t, world, workload);
});

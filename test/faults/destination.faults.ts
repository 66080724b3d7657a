// Fault scenario (single node): the destination times out (longer than its 1 s timeout), then
// resets connections, then answers 500 for 20 s — the "a minute", scaled down to fit the
// suite's time budget — then recovers. Every delivery arrives once the destination is healthy;
// one answered 2xx is never sent again. The destination keeps the default circuit breaker
// (opens at 50 % failures, 30 s cooldown) and backoff, so recovery is measured as shipped.
import t from 'tap';

import { judge } from './verdict.js';
import { JOURNEYS, startWorkload } from './workload.js';
import { inject, sleep, startWorld, type SinkMode } from './world.js';

const USERS = Number(process.env['CAIRN_FAULTS_USERS'] ?? 600);
const SPREAD_MS = 30_000;
const PHASES: Array<[SinkMode, number]> = [
  ['ok', 3_000],
  ['timeout', 6_000],
  ['ok', 3_000],
  ['reset', 6_000],
  ['ok', 3_000],
  ['error500', 20_000],
];

void t.test('a destination that times out, resets and answers 500, then recovers', async (t) => {
  const world = await startWorld(t, {
    name: 'destination',
    journeys: JOURNEYS,
    destination: { timeout: '1s' },
  });
  const workload = startWorkload(world.bus, USERS, SPREAD_MS);
  for (const [mode, ms] of PHASES) {
    if (mode === 'ok') {
      await sleep(ms);
      continue;
    }
    await inject(world, `destination ${mode}`, 'sink', false, async () => {
      world.setSinkMode(mode);
      await sleep(ms);
      world.setSinkMode('ok');
    });
  }
  await judge(t, world, workload);
});

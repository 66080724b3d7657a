// The journal projection against a real nats-server, with the four services in this process: the
// counts readJourneyStats returns equal what the simulator counts for the same events, and stay
// equal when the whole journal is read again (a checkpoint lost, the matcher restarted).
import { isDeepStrictEqual } from 'node:util';

import t from 'tap';

import { BUCKETS, STREAMS } from '../../../libs/bus/index.js';
import { CHECKPOINT_KEY, readCheckpoint, readJourneyStats } from '../../../libs/insight/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { startMatcher } from '../../../services/matcher/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { publishEvents, publishJourneys, startPipeline } from '../../helpers/pipeline.js';
import {
  countsOf,
  expectedStats,
  projectionCaughtUp,
  statsEvents,
  statsJourney,
} from '../../helpers/stats-journey.js';

void t.test('journey stats equal the simulator counts, and survive the journal read twice', async (t) => {
  const p = await startPipeline(t);
  const { bus } = p;
  const doc = statsJourney();
  await publishJourneys(bus, doc);
  const events = statsEvents(24);
  const expected = countsOf(expectedStats(doc, events, Date.now()));
  // The oracle takes every way through the journey, so each count below can be wrong.
  t.match(expected, {
    entered: 24,
    refused: { already_entered: 6 },
    exited: { exit_rule: 8 },
    steps: [
      { stepId: 'wait', entered: 24, current: 0, branches: { purchased: 8, updated: 5, timeout: 8 } },
      { stepId: 'size', entered: 8, branches: { big: 4, else: 4 } },
      { stepId: 'nudge', entered: 4, sends: { sink: { sent: 4, failed: 0 } } },
      { stepId: 'big-nudge', entered: 4 },
      { stepId: 'thanks', entered: 8 },
      { stepId: 'cool-down', entered: 8, current: 8 },
      { stepId: 'end', entered: 8 },
    ],
  });
  t.equal(expected.active, 8, 'the buyers wait in the cool-down');

  const began = Date.now();
  await publishEvents(bus, events);
  const read = async () => countsOf(await readJourneyStats(bus, { journeyId: doc.id }));
  let last: unknown;
  await waitUntil(
    async () => {
      last = await read();
      return isDeepStrictEqual(last, expected);
    },
    60_000,
    'the stats to equal the simulator counts',
  ).catch(() => undefined);
  t.same(last, expected, 'the projected counts are the simulator counts');
  t.comment(`counts equal after ${Date.now() - began} ms`);
  await waitUntil(() => projectionCaughtUp(bus), 30_000, 'the projection to commit the whole journal');
  t.same(await read(), expected, 'nothing more is counted once the whole journal is committed');

  // Lose the checkpoint and restart the matcher: the projection reads every record again and
  // skips each one its key already holds.
  const matcher = p.services[1]!;
  await matcher.stop(2_000);
  const store = await bus.store(BUCKETS.stats);
  await store.put(CHECKPOINT_KEY, new TextEncoder().encode(JSON.stringify({ v: 1, seq: 0 })));
  t.equal(await readCheckpoint(store), 0, 'the checkpoint is back at the start');
  const again = await startMatcher({
    config: p.config,
    bus,
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  t.teardown(() => again.stop(2_000));
  t.comment(`matcher restarted after ${Date.now() - began} ms`);
  await waitUntil(() => projectionCaughtUp(bus), 30_000, 'the journal read again to its end');
  const journal = (await bus.jsm.streams.info(STREAMS.JOURNAL)).state;
  t.ok(journal.messages > 24, `the journal holds ${journal.messages} decisions, each read twice`);
  t.same(await read(), expected, 'the counts are unchanged after reading the whole journal again');

  const windowed = await readJourneyStats(bus, { journeyId: doc.id, sinceMs: 3_600_000 });
  t.equal(windowed.entered, 24, 'the last hour holds every entry');
  t.ok(
    windowed.window.since !== null && windowed.window.since % 3_600_000 === 0,
    'the window starts on an hour',
  );
  t.same(
    windowed.steps.map((s) => s.current),
    (await readJourneyStats(bus, { journeyId: doc.id })).steps.map((s) => s.current),
    'waiting now is not windowed',
  );
});

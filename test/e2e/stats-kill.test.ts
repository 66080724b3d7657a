// The journal projection across a matcher crash: the matcher (which runs the projection) is
// SIGKILLed twice while journeys run and the journal is being counted, and started again; the
// new process takes the projection's lease over and goes on from the checkpoint. The counts end
// equal to what the simulator counts for the same events: no record lost, none counted twice.
import { isDeepStrictEqual } from 'node:util';

import t from 'tap';

import { BUCKETS, STREAMS } from '../../libs/bus/index.js';
import { readCheckpoint, readJourneyStats } from '../../libs/insight/index.js';
import { waitUntil, withBus } from '../helpers/bus.js';
import { publishEvents, publishJourneys } from '../helpers/pipeline.js';
import {
  countsOf,
  expectedStats,
  projectionCaughtUp,
  statsEvents,
  statsJourney,
} from '../helpers/stats-journey.js';
import { spawnService, type ServiceName, type ServiceProcess } from './processes.js';

const USERS = 300;

void t.test('SIGKILL of the matcher mid-count loses and repeats no journal record', async (t) => {
  const { bus, server } = await withBus(t, { CAIRN_PARTITIONS: '4' });
  const env = {
    NATS_URL: server.url,
    CAIRN_PARTITIONS: '4',
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_ACK_WAIT: '2s',
    // A restarted matcher takes over its killed predecessor's leases once they ran out.
    CAIRN_LEASE_TTL: '3s',
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
  };
  const running = new Map<ServiceName, ServiceProcess>();
  const start = async (name: ServiceName): Promise<void> => {
    const p = spawnService(name, env);
    running.set(name, p);
    await p.ready;
  };
  t.teardown(async () => {
    for (const p of running.values()) await p.kill();
  });
  for (const name of ['ingest', 'matcher', 'timer'] as const) await start(name);

  const doc = statsJourney();
  await publishJourneys(bus, doc);
  // Two waves of users: the second is published after the first crash, so that the restarted
  // matcher has a journal to count while it is killed again.
  const events = statsEvents(USERS);
  const second = statsEvents(USERS, 'late');
  const expected = countsOf(expectedStats(doc, [...events, ...second], Date.now()));
  t.equal(expected.entered, 2 * USERS, 'the simulator enters every user');

  const store = await bus.store(BUCKETS.stats);
  const lastSeq = async (): Promise<number> => (await bus.jsm.streams.info(STREAMS.JOURNAL)).state.last_seq;
  const kills: Array<{ checkpoint: number; journal: number }> = [];
  const killMatcher = async (): Promise<void> => {
    // Once this process's projection has committed something, while the journal is ahead of it.
    const before = kills[kills.length - 1]?.checkpoint ?? 0;
    await waitUntil(
      async () => {
        const checkpoint = await readCheckpoint(store);
        return checkpoint > before && checkpoint < (await lastSeq());
      },
      60_000,
      'a commit of this matcher with journal records still to count',
    );
    await running.get('matcher')?.kill();
    kills.push({ checkpoint: await readCheckpoint(store), journal: await lastSeq() });
    await start('matcher');
  };

  await publishEvents(bus, events);
  await killMatcher();
  // The second crash: while the restarted matcher catches up with the second wave.
  await publishEvents(bus, second);
  await killMatcher();

  let last: unknown;
  await waitUntil(
    async () => {
      last = countsOf(await readJourneyStats(bus, { journeyId: doc.id }));
      return isDeepStrictEqual(last, expected);
    },
    90_000,
    'the stats to equal the simulator counts',
  ).catch(() => undefined);
  t.same(last, expected, 'the counts are the simulator counts');
  await waitUntil(() => projectionCaughtUp(bus), 30_000, 'the projection to commit the whole journal');
  t.same(
    countsOf(await readJourneyStats(bus, { journeyId: doc.id })),
    expected,
    'nothing more is counted once the whole journal is committed',
  );
  const final = await lastSeq();
  t.comment(`kills at ${JSON.stringify(kills)}; the journal ends at ${final}`);
  t.ok(
    kills.every((k) => k.checkpoint < k.journal && k.checkpoint < final),
    'each kill left journal records uncounted',
  );
});

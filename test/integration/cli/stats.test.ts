// `cairn journey stats`, in-process against a real nats-server: journal records of the
// simulator (an active version, and a shadow version's marked `shadow`) go on JOURNAL, the
// projection counts them, and the command prints them as a tree, as JSON, in a window, and the
// active version beside its shadow.
import t from 'tap';

import {
  BUCKETS,
  JournalMessage,
  publishJourneyVersion,
  readJourneyHead,
  subjects,
  type Bus,
} from '../../../libs/bus/index.js';
import { foldJournal, journeyStatsOf, startJournalProjection } from '../../../libs/insight/index.js';
import type { JournalRecord } from '../../../libs/journey/index.js';
import { runCli } from '../../../services/cli/cli.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';
import { journey } from '../../helpers/pipeline.js';
import {
  countsOf,
  projectionCaughtUp,
  simulatedJournal,
  STATS_JOURNEY,
  statsEvents,
  statsJourney,
} from '../../helpers/stats-journey.js';
import { captureIo } from './helpers.js';

const DAY_MS = 86_400_000;

async function publishJournal(bus: Bus, records: JournalRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 50) {
    await bus.js.publish(subjects.journal('checkout', 0), JournalMessage.encode(records.slice(i, i + 50)));
  }
}

void t.test('journey stats: a tree, JSON, a window, and a shadow beside the active version', async (t) => {
  const { bus, server } = await withBus(t);
  const env = { NATS_URL: server.url };
  const doc = statsJourney();
  await publishJourneyVersion(bus, doc);
  // The shadow version: a longer hold. Stored as version 2 while version 1 stays active, as a
  // shadow publish leaves it.
  const shadowDoc = journey(STATS_JOURNEY.replace('timeout: { after: 3s', 'timeout: { after: 1h'));
  await publishJourneyVersion(bus, shadowDoc);
  const head = (await readJourneyHead(bus, 'checkout'))!;
  await (
    await bus.kv(BUCKETS.journeys)
  ).put('checkout', JSON.stringify({ ...head, active: 1, versions: { 1: 'active', 2: 'draining' } }));

  const now = Date.now();
  const old = statsEvents(6, 'old');
  const recent = statsEvents(12, 'new');
  const v1 = [
    ...simulatedJournal(doc, old, (i) => now - 3 * DAY_MS + i, now),
    ...simulatedJournal(doc, recent, (i) => now - 600_000 + i, now),
  ];
  const shadow = simulatedJournal(shadowDoc, recent, (i) => now - 600_000 + i, now, 2).map(
    (r): JournalRecord => ({ ...r, shadow: true, ...(r.type === 'sent' && { type: 'would_send' }) }),
  );
  await publishJournal(bus, v1);
  await publishJournal(bus, shadow);
  const projection = await startJournalProjection({ bus, log: silentLogger });
  t.teardown(() => projection.stop());
  await waitUntil(() => projectionCaughtUp(bus), 30_000, 'the journal counted');

  const folded = foldJournal([...v1, ...shadow]);
  const expected = journeyStatsOf(folded.get('checkout.v1'), {
    journeyId: 'checkout',
    version: 1,
    shadow: false,
    doc,
    until: now,
  });
  t.equal(expected.entered, 18, 'the simulator entered every user');

  const run = async (args: string[]): Promise<ReturnType<typeof captureIo>> => {
    const io = captureIo(env);
    t.equal(await runCli(args, io), 0, `cairn ${args.join(' ')} exits 0`, { output: io.text() });
    return io;
  };
  let io = await run(['journey', 'stats', 'checkout', '--json']);
  const json = JSON.parse(io.stdout.join('\n')) as typeof expected;
  t.same(countsOf(json), countsOf(expected), '--json: the counts of the simulated journal');
  t.equal(json.window.since, null, 'all time');

  io = await run(['journey', 'stats', 'checkout']);
  const text = io.stdout.join('\n').split('\n');
  t.match(text[0], /^checkout v1 · all time, until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.same(text.slice(1), [
    'entered 18 · refused 5 (already_entered 5) · active 4 · completed 8 (44.4%) · exited 6 (exit_rule 6)',
    '',
    'wait  hold_until  18 entered (100.0%) · 0 waiting now',
    '├─ purchased  6 (33.3%)',
    '│  thanks  send  6 entered (33.3%) · sink: 6 sent',
    '│  cool-down  delay  6 entered (33.3%) · 4 waiting now',
    '│  end  exit  8 entered (44.4%)',
    '├─ updated  5 (27.8%) · back to the start of the hold',
    '└─ timeout  6 (33.3%)',
    '   size  data_split  6 entered (33.3%)',
    '   ├─ big  3 (50.0%)',
    '   │  big-nudge  send  3 entered (16.7%) · sink: 3 sent',
    '   │  → end (above)',
    '   └─ else  3 (50.0%)',
    '      nudge  send  3 entered (16.7%) · sink: 3 sent',
    '      → end (above)',
  ]);

  io = await run(['journey', 'stats', 'checkout', '--since', '24h', '--json']);
  const day = JSON.parse(io.stdout.join('\n')) as typeof expected;
  t.equal(day.entered, 12, '--since 24h: the recent entries only');
  t.equal(day.steps.find((s) => s.stepId === 'cool-down')?.current, 4, 'waiting now is not windowed');
  t.ok(day.window.since !== null && day.window.since <= now - DAY_MS, 'the window covers the last 24 h');

  io = captureIo(env);
  t.equal(await runCli(['journey', 'stats', 'checkout', '--since', '8d'], io), 1);
  t.match(io.stderr.join('\n'), /--since must be a duration from 1s to 7d, not "8d"/);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'stats', 'nope'], io), 1);
  t.match(io.stderr.join('\n'), /CAIRN_E_STATS_NOT_FOUND: journey nope does not exist/);

  io = await run(['journey', 'stats', 'checkout', '--shadow', '--json']);
  const both = JSON.parse(io.stdout.join('\n')) as { active: typeof expected; shadow: typeof expected };
  const shadowExpected = journeyStatsOf(folded.get('checkout.v2.shadow'), {
    journeyId: 'checkout',
    version: 2,
    shadow: true,
    doc: shadowDoc,
    until: now,
  });
  t.same(countsOf(both.shadow), countsOf(shadowExpected), '--shadow --json: the shadow counts');
  t.same(countsOf(both.active), countsOf(expected), '--shadow --json: the active counts');

  io = await run(['journey', 'stats', 'checkout', '--shadow']);
  const table = io.stdout.join('\n').split('\n');
  t.match(table[0], /^checkout · all time, until /);
  t.same(table.slice(1), [
    '',
    '                   active v1               shadow v2',
    'entered            18                      12',
    'refused            5                       3',
    'active             4                       8',
    'completed          8 (44.4%)               0 (0.0%)',
    'exited             6                       4',
    'wait (hold_until)  18 (100.0%), 0 waiting  12 (100.0%), 4 waiting',
    '  purchased        6 (33.3%)               4 (33.3%)',
    '  updated          5 (27.8%)               3 (25.0%)',
    '  timeout          6 (33.3%)               0 (0.0%)',
    'size (data_split)  6 (33.3%)               0 (0.0%)',
    '  big              3 (50.0%)               0 (-)',
    '  else             3 (50.0%)               0 (-)',
    'nudge (send)       3 (16.7%)               0 (0.0%)',
    '  → sink           3 sent                  0 would send',
    'big-nudge (send)   3 (16.7%)               0 (0.0%)',
    '  → sink           3 sent                  0 would send',
    'thanks (send)      6 (33.3%)               4 (33.3%)',
    '  → sink           6 sent                  4 would send',
    'cool-down (delay)  6 (33.3%), 4 waiting    4 (33.3%), 4 waiting',
    'end (exit)         8 (44.4%)               0 (0.0%)',
  ]);
});

// The fold of journal records into counts: tables of records in, exactly these counts out; and a
// simulated run (what `cairn replay` folds) counted per step.
import t from 'tap';

import {
  countRecord,
  emptyCounters,
  foldJournal,
  DAY_MS,
  HOUR_MS,
  journeyStatsOf,
  pruneWindows,
  statsValueCodec,
  windowCounters,
  type StepStats,
} from '../../../libs/insight/index.js';
import {
  compile,
  EXIT_SEND_STEP_ID,
  simulate,
  type EventSpec,
  type JournalRecord,
  type JournalType,
} from '../../../libs/journey/index.js';
import { journey } from '../../helpers/pipeline.js';

const T0 = Date.UTC(2026, 0, 1);
const rec = (type: JournalType, fields: Partial<JournalRecord> = {}): JournalRecord => ({
  v: 1,
  at: T0,
  type,
  journeyId: 'j',
  version: 1,
  userKey: 'u',
  inputId: 'i',
  ...fields,
});
const fold = (records: JournalRecord[]) => {
  const c = emptyCounters();
  for (const r of records) countRecord(c, r);
  return c;
};

const HOLD = journey(`
id: j
name: J
trigger: { event: go }
entry: { mode: once }
exit:
  rules: [{ event: stop }]
  send: { to: [crm], event: Stopped }
steps:
  - id: wait
    type: hold_until
    lookback: 1m
    branches:
      - { id: done, event: done }
      - { id: again, event: again, restart: true }
    timeout: { after: 1h }
`);

/** HOLD's steps as counted: one waiting now, a restart, a timeout and one exit send to crm. */
const holdSteps = (entered: number, done: number): StepStats[] => [
  {
    stepId: 'wait',
    type: 'hold_until',
    entered,
    current: 1,
    branches: { done, again: 1, timeout: 1 },
  },
  // The exit send is no step an instance enters: only its send is counted.
  { stepId: EXIT_SEND_STEP_ID, type: 'send', entered: 0, current: 0, sends: { crm: { sent: 1, failed: 0 } } },
];

void t.test('a hold: waiting, restarts, branches, timeouts and exits mid-wait', (t) => {
  const c = fold([
    rec('entered'),
    rec('step', { stepId: 'wait', detail: { type: 'hold_until', visit: 1 } }),
    rec('waiting', { stepId: 'wait' }),
    rec('restarted', { stepId: 'wait', branchId: 'again' }),
    rec('refused', { stepId: 'wait', branchId: 'again', reason: 'restart_limit' }),
    rec('branch', { stepId: 'wait', branchId: 'done', detail: { event: 'done', messageId: 'm' } }),
    rec('completed', { reason: 'end_of_path' }),
    // Entered and matched at once from the lookback memory: never waits.
    rec('entered'),
    rec('step', { stepId: 'wait', detail: { type: 'hold_until', visit: 1 } }),
    rec('waiting', { stepId: 'wait' }),
    rec('step', { stepId: 'wait', branchId: 'done', reason: 'lookback' }),
    rec('branch', { stepId: 'wait', branchId: 'done', detail: { event: 'done', messageId: 'm2' } }),
    rec('completed', { reason: 'end_of_path' }),
    // Timed out.
    rec('entered'),
    rec('step', { stepId: 'wait', detail: { type: 'hold_until', visit: 1 } }),
    rec('waiting', { stepId: 'wait' }),
    rec('timer.fired', { stepId: 'wait', reason: 'timeout' }),
    rec('completed', { reason: 'end_of_path' }),
    // An exit rule (with the exit send), and an archive, mid-wait.
    ...['exit_rule', 'version_archived'].flatMap((reason) => [
      rec('entered'),
      rec('step', { stepId: 'wait', detail: { type: 'hold_until', visit: 1 } }),
      rec('waiting', { stepId: 'wait' }),
      ...(reason === 'exit_rule' ? [rec('sent', { stepId: 'EXIT', detail: { destination: 'crm' } })] : []),
      rec('exited', { stepId: 'wait', reason }),
    ]),
    // Still waiting; a stale timer changes nothing; one more refused entry.
    rec('entered'),
    rec('step', { stepId: 'wait', detail: { type: 'hold_until', visit: 1 } }),
    rec('waiting', { stepId: 'wait' }),
    rec('ignored', { reason: 'stale_timer' }),
    rec('refused', { reason: 'already_entered' }),
  ]);
  t.same(c, {
    entered: 6,
    refused: { already_entered: 1 },
    completed: 3,
    exited: { exit_rule: 1, version_archived: 1 },
    steps: {
      wait: { entered: 6, waiting: 6, left: 5, branches: { again: 1, done: 2, timeout: 1 } },
      EXIT: { entered: 0, waiting: 0, left: 0, sends: { crm: { sent: 1, failed: 0 } } },
    },
  });
  const stats = journeyStatsOf(
    { journeyId: 'j', version: 1, shadow: false, total: c, hours: {}, days: {} },
    {
      journeyId: 'j',
      version: 1,
      shadow: false,
      doc: HOLD,
      until: T0,
    },
  );
  t.same(stats.steps, holdSteps(6, 2));
  t.equal(stats.active, 1, 'entered minus completed and exited');
  t.end();
});

void t.test('splits and sends: no waiting; refused sends by destination', (t) => {
  const c = fold([
    rec('branch', { stepId: 'split', branchId: 'a' }),
    rec('branch', { stepId: 'split', branchId: 'else' }),
    rec('branch', { stepId: 'coin' }),
    rec('sent', { stepId: 's', detail: { destination: 'crm', deliveryId: 'd' } }),
    rec('send.failed', { stepId: 's', reason: 'payload_too_large', detail: { destination: 'crm' } }),
    rec('send.failed', { stepId: 's', reason: 'payload_too_large', detail: { destination: 'ads' } }),
    rec('step', { stepId: 'pause', reason: 'delay_until_past' }),
    rec('timer.fired', { stepId: 'pause', reason: 'delay_elapsed' }),
  ]);
  t.same(c.steps, {
    split: { entered: 0, waiting: 0, left: 0, branches: { a: 1, else: 1 } },
    coin: { entered: 0, waiting: 0, left: 0, branches: { none: 1 } },
    s: {
      entered: 0,
      waiting: 0,
      left: 0,
      sends: { crm: { sent: 1, failed: 1 }, ads: { sent: 0, failed: 1 } },
    },
    pause: { entered: 0, waiting: 0, left: 1 },
  });
  t.end();
});

void t.test('shadow records count apart; would_send counts as a send', (t) => {
  const folded = foldJournal([
    rec('entered'),
    rec('entered', { shadow: true }),
    rec('would_send', { shadow: true, stepId: 's', detail: { destination: 'crm' } }),
    rec('entered', { version: 2 }),
  ]);
  t.same([...folded.keys()], ['j.v1', 'j.v1.shadow', 'j.v2']);
  t.equal(folded.get('j.v1')?.total.entered, 1);
  t.same(folded.get('j.v1.shadow')?.total.steps['s']?.sends, { crm: { sent: 1, failed: 0 } });
  t.end();
});

void t.test('windows: the hours a window overlaps, its days beyond 47 hours; 8 days kept', (t) => {
  const v = foldJournal([
    rec('entered', { at: T0 }),
    rec('entered', { at: T0 + 2 * HOUR_MS + 5 }),
    rec('entered', { at: T0 + 3 * HOUR_MS - 1 }),
    rec('entered', { at: T0 + 3 * DAY_MS }),
  ]).get('j.v1')!;
  const now = T0 + 3 * DAY_MS + 1;
  t.same(Object.keys(v.days), [String(T0 / DAY_MS), String(T0 / DAY_MS + 3)]);
  t.same(Object.keys(v.hours), [String((T0 + 3 * DAY_MS) / HOUR_MS)], 'hours older than 48 h are dropped');
  const hour = windowCounters(v, now - HOUR_MS, now);
  t.same([hour.counters.entered, hour.since], [1, T0 + 3 * DAY_MS - HOUR_MS], 'the last hour, from its hour');
  const week = windowCounters(v, now - 7 * DAY_MS, now);
  t.same([week.counters.entered, week.since], [4, T0 - 4 * DAY_MS], 'the last 7 days, from their first day');
  const recent = foldJournal([
    rec('entered', { at: T0 }),
    rec('entered', { at: T0 + 2 * HOUR_MS + 5 }),
    rec('entered', { at: T0 + 3 * HOUR_MS - 1 }),
  ]).get('j.v1')!;
  const w = windowCounters(recent, T0 + 2 * HOUR_MS + 30 * 60_000, T0 + 3 * HOUR_MS);
  t.equal(w.counters.entered, 2, 'the hour the window starts in counts whole');
  t.equal(w.since, T0 + 2 * HOUR_MS, 'and the window says so');
  pruneWindows(v, T0 + 9 * DAY_MS);
  t.same(Object.keys(v.days), [String(T0 / DAY_MS + 3)], 'days older than 8 days are dropped');
  t.equal(v.total.entered, 4, 'all-time counts stay');
  t.end();
});

void t.test('the stored value leaves zeros out and reads them back', (t) => {
  const v = foldJournal([rec('entered'), rec('waiting', { stepId: 'wait' })]).get('j.v1')!;
  const value = { v: 1 as const, seq: 7, ...v };
  const bytes = statsValueCodec.encode(value);
  t.notMatch(new TextDecoder().decode(bytes), /:0[,}]/, 'no zero count is stored');
  t.same(statsValueCodec.decode(bytes), value, 'and the value reads back whole');
  t.end();
});

void t.test(
  'a simulated run: entries, refusals, branches, timeouts, exits, sends and who still waits',
  (t) => {
    const e = (at: number, name: string, userId: string): EventSpec => ({ name, userId, at: T0 + at });
    const events = [
      e(0, 'go', 'u1'), // times out
      e(1, 'go', 'u2'),
      e(2, 'again', 'u2'), // the restart branch: waits on
      e(3, 'done', 'u2'),
      e(4, 'go', 'u1'), // already_entered
      e(5, 'go', 'u4'),
      e(6, 'stop', 'u4'), // the exit rule mid-wait, and the exit send
      e(90 * 60_000, 'go', 'u3'), // still waiting
    ];
    const until = T0 + 100 * 60_000;
    const timeline = simulate(compile(HOLD, { version: 3 }), events, { until });
    const folded = foldJournal(timeline.journal);
    t.same([...folded.keys()], ['j.v3'], 'one version counted');
    const stats = journeyStatsOf(folded.get('j.v3'), {
      journeyId: 'j',
      version: 3,
      shadow: false,
      doc: HOLD,
      until,
    });
    t.equal(stats.entered, 4);
    t.same(stats.refused, { already_entered: 1 });
    t.equal(stats.completed, 2);
    t.same(stats.exited, { exit_rule: 1 });
    const open = timeline.instances.filter((i) => i.status === 'active');
    t.equal(stats.active, open.length, 'active: the instances the run left open');
    t.equal(stats.active, 1);
    t.same(stats.steps, holdSteps(4, 1));
    t.end();
  },
);

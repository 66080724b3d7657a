// Which journal records count as entries, step transitions and exits, and the bounded exit
// reasons: a table of records in, exactly these series out.
import t from 'tap';

import type { JournalRecord } from '../../../libs/journey/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { countJourneyRecord, EXIT_REASONS, exitReasonOf } from '../../../services/matcher/journey-metrics.js';

const base = { v: 1 as const, at: 0, journeyId: 'cart', version: 1, userKey: 'u1', inputId: 'i' };
const rec = (r: Partial<JournalRecord> & Pick<JournalRecord, 'type'>): JournalRecord => ({ ...base, ...r });

void t.test('journal records -> journey counters', async (t) => {
  const m = createMetrics({ defaultMetrics: false });
  for (const r of [
    rec({ type: 'entered' }),
    rec({ type: 'entered' }),
    rec({ type: 'refused', reason: 'already_entered' }),
    rec({ type: 'step', stepId: 'wait' }),
    // Annotations of a step already entered: no transition.
    rec({ type: 'step', stepId: 'wait', branchId: 'paid', reason: 'lookback' }),
    rec({ type: 'step', stepId: 'pause', reason: 'delay_until_past' }),
    rec({ type: 'step', stepId: 'thanks' }),
    rec({ type: 'step', stepId: 'thanks' }),
    rec({ type: 'branch', stepId: 'wait', branchId: 'paid' }),
    rec({ type: 'waiting', stepId: 'wait' }),
    rec({ type: 'sent', stepId: 'thanks' }),
    rec({ type: 'completed', reason: 'exit_step', stepId: 'end' }),
    rec({ type: 'completed', reason: 'end_of_path' }),
    rec({ type: 'exited', reason: 'exit_rule' }),
    rec({ type: 'exited', reason: 'version_archived' }),
    rec({ type: 'exited', reason: 'step_loop' }),
    rec({ journeyId: 'other', type: 'exited', reason: 'something_new' }),
  ])
    countJourneyRecord(m, r);
  const series = async (metric: { get(): Promise<{ values: { labels: object; value: number }[] }> }) =>
    (await metric.get()).values.map((v) => ({ ...v.labels, value: v.value }));
  t.same(await series(m.journeyEntries), [{ journey: 'cart', value: 2 }]);
  t.same(await series(m.journeyTransitions), [
    { journey: 'cart', step: 'wait', value: 1 },
    { journey: 'cart', step: 'thanks', value: 2 },
  ]);
  t.same(await series(m.journeyExits), [
    { journey: 'cart', reason: 'completed', value: 2 },
    { journey: 'cart', reason: 'exit_rule', value: 1 },
    { journey: 'cart', reason: 'archived', value: 1 },
    { journey: 'cart', reason: 'step_loop', value: 1 },
    { journey: 'other', reason: 'other', value: 1 },
  ]);
});

void t.test('exit reasons come from a fixed set', (t) => {
  for (const reason of ['exit_rule', 'version_archived', 'step_loop', 'unknown_step', 'x', undefined]) {
    t.ok(EXIT_REASONS.includes(exitReasonOf({ type: 'exited', reason })), String(reason));
  }
  t.equal(exitReasonOf({ type: 'completed', reason: 'end_of_path' }), 'completed');
  t.end();
});

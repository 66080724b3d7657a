// The per-user rate window of the entry limit: each event counts once, a redelivery (the same
// messageId) neither counts again nor sees itself; events a second older drop out.
import t from 'tap';

import { UserRateWindow } from '../../../services/matcher/rate.js';

void t.test('a redelivered event is not counted twice', (t) => {
  const w = new UserRateWindow();
  t.equal(w.record('u', 1_000, 'm1'), 0);
  t.equal(w.record('u', 1_000, 'm1'), 0, 'the redelivery sees what the first delivery saw');
  t.equal(w.record('u', 1_010, 'm2'), 1, 'm1 counts once');
  t.equal(w.record('u', 1_010, 'm2'), 1);
  t.equal(w.record('u', 1_000, 'm1'), 0, 'a late redelivery of m1 still counts only what came before it');
  t.equal(w.record('u', 1_020, 'm3'), 2);
  t.end();
});

void t.test('a burst of redelivered events stays under the limit its distinct events reach', (t) => {
  const w = new UserRateWindow();
  const counts: number[] = [];
  for (let i = 0; i < 20; i++) {
    counts.push(w.record('u', 5_000 + i, `m${i}`));
    w.record('u', 5_000 + i, `m${i}`);
  }
  t.same(
    counts,
    Array.from({ length: 20 }, (_, i) => i),
  );
  t.end();
});

void t.test('the window is one second of receive time, per user', (t) => {
  const w = new UserRateWindow();
  t.equal(w.record('u', 0, 'a'), 0);
  t.equal(w.record('u', 999, 'b'), 1);
  t.equal(w.record('v', 999, 'c'), 0, 'another user');
  t.equal(w.record('u', 1_000, 'd'), 1, 'a dropped out');
  t.equal(w.record('u', 2_500, 'e'), 0);
  t.equal(w.record('u', 1_000, 'd'), 0, 'a redelivery whose window was forgotten counts nothing new');
  t.equal(w.record('u', 2_600, 'f'), 1, 'only e: the late redelivery is outside the window');
  t.end();
});

import t from 'tap';

import { RecoveryGate } from '../../../libs/bus/index.js';

const m = (seq: number) => ({ seq });

void t.test('nothing pending: every message passes at once', (t) => {
  const passed: number[] = [];
  const gate = new RecoveryGate(
    0,
    10,
    1_000,
    (x) => passed.push(x.seq),
    () => t.fail('no timeout'),
  );
  t.ok(gate.isOpen);
  gate.offer(m(11));
  gate.offer(m(12));
  t.same(passed, [11, 12]);
  t.end();
});

void t.test('everything waits until each earlier one came back, then passes in stream order', (t) => {
  const passed: number[] = [];
  const gate = new RecoveryGate(
    2,
    10,
    60_000,
    (x) => passed.push(x.seq),
    () => t.fail('no timeout'),
  );
  gate.offer(m(12));
  gate.offer(m(9));
  t.same(passed, [], 'nothing passes while an earlier message is missing');
  t.same(
    gate.waiting.map((x) => x.seq),
    [12, 9],
  );
  gate.offer(m(9)); // redelivered again while held: counts once, passes once
  t.notOk(gate.isOpen);
  gate.offer(m(13));
  gate.offer(m(7));
  t.ok(gate.isOpen);
  t.same(passed, [7, 9, 12, 13], 'all of them, in stream order');
  gate.offer(m(14));
  t.same(passed.at(-1), 14, 'then messages pass at once');
  t.end();
});

void t.test('the deadline opens the gate when an earlier message never comes back', async (t) => {
  const passed: number[] = [];
  let missing = -1;
  const gate = new RecoveryGate(
    2,
    10,
    50,
    (x) => passed.push(x.seq),
    (n) => (missing = n),
  );
  gate.offer(m(11));
  gate.offer(m(3));
  await new Promise((r) => setTimeout(r, 120));
  t.equal(missing, 1);
  t.same(passed, [3, 11]);
  t.ok(gate.isOpen);
});

void t.test('close hands back what was held, for a nak', (t) => {
  const passed: number[] = [];
  const gate = new RecoveryGate(
    1,
    10,
    60_000,
    (x) => passed.push(x.seq),
    () => t.fail('no timeout'),
  );
  gate.offer(m(11));
  t.same(
    gate.close().map((x) => x.seq),
    [11],
  );
  t.same(passed, []);
  t.same(gate.waiting, []);
  t.end();
});

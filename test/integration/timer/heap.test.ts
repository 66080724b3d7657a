// The min-heap orders timers by instant, then token.
import t from 'tap';

import { TimerHeap } from '../../../services/timer/index.js';

void t.test('pops timers earliest first', (t) => {
  const h = new TimerHeap<{ at: number; token: string }>();
  const ats = [50, 10, 40, 10, 30, 20, 60, 0, 35];
  ats.forEach((at, i) => h.push({ at, token: `t${i}` }));
  t.equal(h.size, ats.length);
  t.equal(h.peek()?.at, 0);
  const out: string[] = [];
  for (let x = h.pop(); x; x = h.pop()) out.push(`${x.at}:${x.token}`);
  t.same(out, ['0:t7', '10:t1', '10:t3', '20:t5', '30:t4', '35:t8', '40:t2', '50:t0', '60:t6']);
  t.equal(h.pop(), undefined);
  t.end();
});

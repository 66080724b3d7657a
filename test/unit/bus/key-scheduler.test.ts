// KeyScheduler: per-key order, items holding several keys, blocks and their release.
import t from 'tap';

import { KeyScheduler } from '../../../libs/bus/index.js';

/** A scheduler whose items finish when the test says so. */
function harness(concurrency = 8) {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const s = new KeyScheduler<string>(concurrency, (item) => {
    started.push(item);
    return new Promise<void>((resolve) => finish.set(item, resolve));
  });
  const done = async (item: string): Promise<void> => {
    finish.get(item)!();
    await new Promise((r) => setImmediate(r));
  };
  return { s, started, done };
}

void t.test('an item with two keys waits for both and holds both back', async (t) => {
  const { s, started, done } = harness();
  s.push('a', 1, 'a1');
  s.push('b', 2, 'b1');
  s.push(['a', 'b'], 3, 'alias');
  s.push('a', 4, 'a2');
  s.push('b', 5, 'b2');
  s.push('c', 6, 'c1');
  t.same(started, ['a1', 'b1', 'c1'], 'the alias waits for a1 and b1; the others behind it');
  await done('a1');
  t.same(started, ['a1', 'b1', 'c1'], 'still waits for b1');
  await done('b1');
  t.same(started, ['a1', 'b1', 'c1', 'alias']);
  await done('alias');
  t.same(started, ['a1', 'b1', 'c1', 'alias', 'a2', 'b2'], 'both keys flow again');
});

void t.test('a blocked item keeps its keys for its redelivery; release lets them go', async (t) => {
  const { s, started, done } = harness();
  s.push(['a', 'b'], 1, 'first');
  s.block(1);
  await done('first');
  s.push('a', 2, 'a-next');
  s.push('b', 3, 'b-next');
  t.same(started, ['first'], 'both keys wait for the redelivery');
  t.same(s.blockedKeys(1), ['a', 'b']);
  s.push('ignored', 1, 'first-again');
  t.same(started, ['first', 'first-again'], 'the redelivery goes first, on the keys it had');
  s.block(1);
  await done('first-again');
  t.same(started, ['first', 'first-again'], 'blocked again');
  t.equal(s.release(1), true, 'released (the message is gone)');
  t.same(started, ['first', 'first-again', 'a-next', 'b-next'], 'the keys flow');
  t.equal(s.release(1), false, 'nothing left to release');
});

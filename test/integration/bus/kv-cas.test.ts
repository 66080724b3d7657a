import t from 'tap';
import { z } from 'zod';

import {
  BUCKETS,
  BusCodes,
  casUpdate,
  defineMessage,
  isCasConflict,
  publishWithId,
  STREAMS,
} from '../../../libs/bus/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { withBus } from '../../helpers/bus.js';

const Counter = defineMessage(
  'counter',
  z.object({ v: z.literal(1), n: z.number(), by: z.array(z.string()) }),
);

void t.test('concurrent updaters both land; conflicts are retried and counted', async (t) => {
  const { bus } = await withBus(t);
  const kv = await bus.kv(BUCKETS.state);
  const metrics = createMetrics({ defaultMetrics: false });
  const bump = (who: string) =>
    casUpdate(
      kv,
      'counter',
      (cur) => ({ v: 1 as const, n: (cur?.n ?? 0) + 1, by: [...(cur?.by ?? []), who] }),
      {
        codec: Counter,
        metrics,
        maxAttempts: 20,
      },
    );
  const results = await Promise.all(['a', 'b', 'c', 'd'].map(bump));
  const entry = await kv.get('counter');
  const final = Counter.decode(entry!.value);
  t.equal(final.n, 4);
  t.same([...final.by].sort(), ['a', 'b', 'c', 'd']);
  const conflicts = (await metrics.kvCasConflicts.get()).values.reduce((s, v) => s + v.value, 0);
  t.equal(
    conflicts,
    results.reduce((s, r) => s + r.attempts - 1, 0),
  );
  t.ok(conflicts >= 1, 'racing writers conflicted at least once');
  t.same((await metrics.kvCasConflicts.get()).values[0]?.labels, { bucket: BUCKETS.state });
});

void t.test('undefined means no write; a stale revision is a conflict; exhaustion is typed', async (t) => {
  const { bus } = await withBus(t);
  const kv = await bus.kv(BUCKETS.state);
  const none = await casUpdate(kv, 'k', () => undefined, { codec: Counter });
  t.same(none, { value: undefined, revision: undefined, written: false, attempts: 1 });
  t.equal(await kv.get('k'), null);

  const first = await casUpdate(kv, 'k', () => ({ v: 1 as const, n: 1, by: [] }), { codec: Counter });
  t.equal(first.written, true);
  t.ok(first.revision! > 0, `revision ${first.revision}`);
  await kv.put('k', Counter.encode({ v: 1, n: 2, by: [] }));
  const stale = await kv.update('k', Counter.encode({ v: 1, n: 9, by: [] }), first.revision!).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(isCasConflict(stale), `a stale revision is a conflict (${String(stale)})`);

  // Every attempt sees a value that someone else replaces before the write.
  let sneaky = 0;
  await t.rejects(
    casUpdate(
      kv,
      'k',
      (cur) => {
        // Sent before casUpdate's write on the same connection, so the server sees it first.
        // Sent before casUpdate's write on the same connection, so the server sees it first.
        void kv.put('k', Counter.encode({ v: 1, n: 100 + sneaky++, by: [] }));
        return { v: 1 as const, n: (cur?.n ?? 0) + 1, by: [] };
      },
      { codec: Counter, maxAttempts: 3 },
    ),
    { code: BusCodes.CAS_EXHAUSTED },
  );
});

void t.test('publishWithId drops a repeated id', async (t) => {
  const { bus } = await withBus(t);
  const a = await publishWithId(bus.js, 'events.x', new Uint8Array([1]), 'm-1');
  const b = await publishWithId(bus.js, 'events.x', new Uint8Array([1]), 'm-1');
  t.equal(a.duplicate, false);
  t.equal(b.duplicate, true);
  t.equal(b.seq, a.seq);
  t.equal(a.stream, STREAMS.EVENTS);
});

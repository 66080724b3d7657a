// The per-user index of active instances (services/matcher/active-index.ts) on a real bucket:
// it follows status changes, the count trusts it below the limit, and at the limit a stale entry
// (an instance that ended without the index following) is verified away rather than refusing.
import t from 'tap';

import { BUCKETS, instanceCodec, instanceKvKey } from '../../../libs/bus/index.js';
import type { Instance } from '../../../libs/journey/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { activeKeys, countActive, syncActive } from '../../../services/matcher/active-index.js';
import { withBus } from '../../helpers/bus.js';

function instance(key: string, status: Instance['status']): Instance {
  return {
    v: 1,
    id: `id-${key}`,
    journeyId: 'j',
    version: 1,
    userKey: 'ana',
    instanceKey: key,
    epoch: 1,
    status,
    enteredAt: 0,
    updatedAt: 0,
    stepId: null,
    visits: {},
    restarts: {},
    context: { entry: { name: 'e', properties: {}, receivedAt: 0, timestamp: 0 } as never, events: {} },
    recent: [],
    applied: [],
  };
}

void t.test('the index follows instances and never refuses on a stale entry', async (t) => {
  const { bus } = await withBus(t);
  const ctx = {
    userInstances: await bus.kv(BUCKETS.userInstances),
    instances: await bus.kv(BUCKETS.instances),
    metrics: createMetrics({ defaultMetrics: false }),
  };
  const k = (key: string) => instanceKvKey('j', 'ana', key);
  for (const key of ['a', 'b', 'c']) {
    await ctx.instances.put(k(key), instanceCodec.encode(instance(key, 'active')));
    await syncActive(ctx, 'ana', k(key), true);
  }
  await syncActive(ctx, 'ana', k('a'), true); // again: no change
  t.same(await activeKeys(ctx, 'ana'), [k('a'), k('b'), k('c')]);
  t.equal(await countActive(ctx, 'ana', k('new'), 5), 3, 'below the limit: the index count');
  t.equal(await countActive(ctx, 'ana', k('a'), 5), 2, 'the instance itself is not counted');

  // 'b' ends but the index is not told (a crash between the two writes).
  await ctx.instances.put(k('b'), instanceCodec.encode(instance('b', 'completed')));
  t.equal(await countActive(ctx, 'ana', k('new'), 3), 2, 'at the limit, the listed instances are read');
  t.same(await activeKeys(ctx, 'ana'), [k('a'), k('c')], 'and the stale entry is dropped');

  await syncActive(ctx, 'ana', k('a'), false);
  t.same(await activeKeys(ctx, 'ana'), [k('c')]);
  t.same(await activeKeys(ctx, 'bo'), [], 'a user with none');
});

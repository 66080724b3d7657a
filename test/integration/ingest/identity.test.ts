// Identity at ingest: alias links an anonymousId to a userId (one profile, one partition, one
// user key for later events of either id), and audiences live on the profile — computed from
// traits on identify, fed by `Audience Entered` / `Audience Exited`.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';

import { BUCKETS, encodeKey } from '../../../libs/bus/index.js';
import { profileCodec } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { withIngest, type IngestHarness } from './helpers.js';

async function reader(h: IngestHarness) {
  const profiles = await h.bus.kv(BUCKETS.profiles);
  return async (userKey: string) => {
    const e = await profiles.get(encodeKey(userKey));
    return e && e.operation === 'PUT' ? profileCodec.decode(e.value) : undefined;
  };
}

void t.test(
  'alias: the anonymous profile merges into the user, later events of either id are the user',
  async (t) => {
    const h = await withIngest(t);
    const read = await reader(h);
    await h.publish('events.identify', { anonymousId: 'anon-1', traits: { plan: 'free', source: 'ad' } });
    await h.publish('events.track', { anonymousId: 'anon-1', event: 'Viewed', messageId: 'before' });
    await h.publish('events.identify', { userId: 'u1', traits: { plan: 'pro' } });
    await waitUntil(() => h.routed.length === 3, 10_000, 'first events routed');
    t.equal(
      h.routed.find((r) => r.event.messageId === 'before')?.event.userKey,
      'anon-1',
      'before the alias the anonymous id is its own user',
    );

    await h.publish('events.alias', { userId: 'u1', previousId: 'anon-1', messageId: 'link' });
    await waitUntil(() => h.routed.length === 4, 10_000, 'alias routed');
    t.same(
      await read('u1'),
      { v: 1, traits: { plan: 'pro', source: 'ad' }, audiences: [] },
      'the user traits win',
    );
    t.same(await read('anon-1'), {
      v: 1,
      traits: {},
      audiences: [],
      aliasOf: 'u1',
      aliasLinks: [{ seq: 4, to: 'u1' }],
    });

    await h.publish('events.track', { anonymousId: 'anon-1', event: 'Viewed', messageId: 'after' });
    await h.publish('events.identify', { anonymousId: 'anon-1', traits: { color: 'red' } });
    await waitUntil(() => h.routed.length === 6, 10_000, 'later events routed');
    const after = h.routed.find((r) => r.event.messageId === 'after')!;
    t.equal(after.event.userKey, 'u1', 'the anonymous id now reaches the user');
    t.equal(after.event.anonymousId, 'anon-1', 'the event keeps its own ids');
    t.equal(
      after.subject,
      h.routed.find((r) => r.event.messageId === 'link')?.subject,
      'on the user partition',
    );
    t.match(
      await read('u1'),
      { traits: { plan: 'pro', source: 'ad', color: 'red' } },
      'traits of either id merge',
    );

    // A repeated alias changes nothing; an alias back (u1 -> anon-1) would be a cycle and is ignored.
    await h.publish('events.alias', { userId: 'u1', previousId: 'anon-1', messageId: 'link-again' });
    await h.publish('events.alias', { userId: 'anon-1', previousId: 'u1', messageId: 'cycle' });
    await waitUntil(() => h.routed.length === 8, 10_000, 'aliases routed');
    t.same(await read('anon-1'), {
      v: 1,
      traits: {},
      audiences: [],
      aliasOf: 'u1',
      aliasLinks: [{ seq: 4, to: 'u1' }],
    });
    t.match(await read('u1'), { traits: { plan: 'pro' } });
    t.notOk((await read('u1'))?.aliasOf, 'no cycle');
    const changes = await h.metrics.registry.getSingleMetricAsString('cairn_profile_changes_total');
    t.match(changes, /change="alias"\} 2/);
  },
);

void t.test('audiences: computed on identify, fed by Audience Entered / Exited', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'audiences.yaml');
  await writeFile(
    file,
    [
      'audiences:',
      '  - id: high-value',
      '    where: { traits.ltv: { gte: 1000 } }',
      '  - { id: pro, where: { traits.plan: pro } }',
    ].join('\n'),
  );
  const h = await withIngest(t, { CAIRN_AUDIENCES_FILE: file });
  const read = await reader(h);
  await h.publish('events.identify', { userId: 'u1', traits: { plan: 'pro', ltv: 5 } });
  await h.publish('events.track', {
    userId: 'u1',
    event: 'Audience Entered',
    properties: { audience_key: 'newsletter' },
  });
  await h.publish('events.identify', { userId: 'u1', traits: { ltv: 1500 } });
  await waitUntil(() => h.routed.length === 3, 10_000, 'routed');
  t.same((await read('u1'))?.audiences, ['newsletter', 'high-value', 'pro']);

  await h.publish('events.identify', { userId: 'u1', traits: { plan: 'free' } });
  await h.publish('events.track', {
    userId: 'u1',
    event: 'Audience Exited',
    properties: { audience_key: 'newsletter' },
  });
  // An audience id that is not an id is ignored (the event still flows).
  await h.publish('events.track', {
    userId: 'u1',
    event: 'Audience Entered',
    properties: { audience_key: 'a b' },
  });
  await waitUntil(() => h.routed.length === 6, 10_000, 'routed');
  t.same((await read('u1'))?.audiences, ['high-value'], 'left pro (computed) and newsletter (fed)');
  t.equal(h.routed[4]!.event.name, 'Audience Exited', 'audience events reach journeys too');
});

void t.test('a bad audiences file stops ingest at start with the reason', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'audiences.yaml');
  await writeFile(file, 'audiences:\n  - { id: x, where: { plan: pro } }\n');
  await t.rejects(
    withIngest(t, { CAIRN_AUDIENCES_FILE: file }),
    /condition path plan must start with traits\./,
  );
});

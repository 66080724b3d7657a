// The journey registry's shadow: a head field and a version status, changed only by CAS; heads
// written before shadows existed still decode.
import t from 'tap';

import {
  archiveJourney,
  archiveShadow,
  BUCKETS,
  JOURNEY_NO_SHADOW,
  JOURNEY_NOT_ACTIVE,
  JOURNEY_NOT_FOUND,
  promoteShadow,
  publishJourneyVersion,
  publishShadowVersion,
  readJourneyHead,
} from '../../../libs/bus/index.js';
import { parseJourney, type JourneyDocument } from '../../../libs/journey/index.js';
import { withBus } from '../../helpers/bus.js';

const doc = (name: string): JourneyDocument => {
  const r = parseJourney(`
id: welcome
name: ${name}
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: hello, type: send, to: [hook], event: Hello }
`);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.journey;
};

void t.test('a head written before shadows decodes: no shadow', async (t) => {
  const { bus } = await withBus(t);
  const kv = await bus.kv(BUCKETS.journeys);
  await kv.put(
    'welcome',
    JSON.stringify({ v: 1, id: 'welcome', latest: 1, active: 1, versions: { '1': 'active' } }),
  );
  const head = await readJourneyHead(bus, 'welcome');
  t.equal(head?.shadow ?? null, null);
  await t.rejects(promoteShadow(bus, 'welcome'), { code: JOURNEY_NO_SHADOW });
});

void t.test('a shadow needs an active version; nothing is stored otherwise', async (t) => {
  const { bus } = await withBus(t);
  await t.rejects(publishShadowVersion(bus, doc('a')), { code: JOURNEY_NOT_FOUND });
  t.equal(await readJourneyHead(bus, 'welcome'), undefined);
  await publishJourneyVersion(bus, doc('a'));
  await archiveJourney(bus, 'welcome');
  await t.rejects(publishShadowVersion(bus, doc('b')), { code: JOURNEY_NOT_ACTIVE });
  t.equal((await readJourneyHead(bus, 'welcome'))?.latest, 1, 'no version claimed');
});

void t.test(
  'shadow beside the active version; replaced, kept by a publish, promoted, archived',
  async (t) => {
    const { bus } = await withBus(t);
    await publishJourneyVersion(bus, doc('a'));
    t.same(
      await publishShadowVersion(bus, doc('a')),
      { id: 'welcome', version: 2 },
      'the same content is fine',
    );
    t.same(await publishShadowVersion(bus, doc('b')), { id: 'welcome', version: 3, replaced: 2 });
    let head = await readJourneyHead(bus, 'welcome');
    t.same([head?.active, head?.shadow], [1, 3]);
    t.same(head?.versions, { '1': 'active', '2': 'archived', '3': 'shadow' });

    // A new active version leaves the shadow running beside it.
    await publishJourneyVersion(bus, doc('c'));
    head = await readJourneyHead(bus, 'welcome');
    t.same([head?.active, head?.shadow], [4, 3]);
    t.same(head?.versions, { '1': 'draining', '2': 'archived', '3': 'shadow', '4': 'active' });

    t.same(await promoteShadow(bus, 'welcome'), { id: 'welcome', version: 3, previous: 4 });
    head = await readJourneyHead(bus, 'welcome');
    t.same([head?.active, head?.shadow], [3, null]);
    t.same(head?.versions, { '1': 'draining', '2': 'archived', '3': 'active', '4': 'draining' });
    await t.rejects(promoteShadow(bus, 'welcome'), { code: JOURNEY_NO_SHADOW });
    await t.rejects(archiveShadow(bus, 'welcome'), { code: JOURNEY_NO_SHADOW });

    await publishShadowVersion(bus, doc('d'));
    t.same(await archiveShadow(bus, 'welcome'), { version: 5 });
    head = await readJourneyHead(bus, 'welcome');
    t.same([head?.active, head?.shadow, head?.versions['5']], [3, null, 'archived']);

    // Archiving the journey archives its shadow too: it had nothing left to compare with.
    await publishShadowVersion(bus, doc('e'));
    await archiveJourney(bus, 'welcome');
    head = await readJourneyHead(bus, 'welcome');
    t.same(
      [head?.active, head?.shadow, head?.versions['3'], head?.versions['6']],
      [null, null, 'archived', 'archived'],
    );
    await t.rejects(archiveShadow(bus, 'nope'), { code: JOURNEY_NOT_FOUND });
  },
);

// The journey registry: immutable versions, a CAS-updated head, drain/archive, the heads watch.
import t from 'tap';

import {
  archiveJourney,
  JOURNEY_NOT_ACTIVE,
  listJourneys,
  publishJourneyVersion,
  readJourneyHead,
  readJourneyVersion,
  watchJourneys,
  type JourneyHead,
} from '../../../libs/bus/index.js';
import { parseJourney, type JourneyDocument } from '../../../libs/journey/index.js';
import { waitUntil, withBus } from '../../helpers/bus.js';

const doc = (id: string): JourneyDocument => {
  const r = parseJourney(`
id: ${id}
name: Test
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: hello, type: send, to: [hook], event: Hello }
`);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.journey;
};

void t.test('publish twice: versions 1 and 2, the first drained; archive', async (t) => {
  const { bus } = await withBus(t);
  const seen: JourneyHead[] = [];
  const watch = await watchJourneys(bus, (h) => seen.push(h));
  t.teardown(() => watch.stop());

  t.same(await publishJourneyVersion(bus, doc('welcome')), { id: 'welcome', version: 1 });
  t.same(await publishJourneyVersion(bus, doc('welcome')), {
    id: 'welcome',
    version: 2,
    previous: { version: 1, status: 'draining' },
  });
  const head = await readJourneyHead(bus, 'welcome');
  t.same(head, { v: 1, id: 'welcome', latest: 2, active: 2, versions: { 1: 'draining', 2: 'active' } });
  const v1 = await readJourneyVersion(bus, 'welcome', 1);
  t.equal(v1?.version, 1);
  t.equal(v1?.document.id, 'welcome');
  t.match(v1?.hash, /^[0-9a-f]+$/);

  t.same(await publishJourneyVersion(bus, doc('welcome'), { previous: 'archive' }), {
    id: 'welcome',
    version: 3,
    previous: { version: 2, status: 'archived' },
  });
  t.same(await archiveJourney(bus, 'welcome'), { version: 3 });
  const archived = await readJourneyHead(bus, 'welcome');
  t.equal(archived?.active, null);
  t.same(archived?.versions, { 1: 'draining', 2: 'archived', 3: 'archived' });
  await t.rejects(archiveJourney(bus, 'welcome'), { code: JOURNEY_NOT_ACTIVE });

  await publishJourneyVersion(bus, doc('other'));
  t.same(
    (await listJourneys(bus)).map((h) => [h.id, h.active]),
    [
      ['other', 1],
      ['welcome', null],
    ],
  );
  await waitUntil(() => seen.some((h) => h.id === 'welcome' && h.active === null), 5_000, 'watch');
  await waitUntil(() => seen.some((h) => h.id === 'other'), 5_000, 'watch other');
  t.ok(
    seen.every((h) => !('document' in h)),
    'the watch passes heads only',
  );
});

void t.test('concurrent publishes get distinct versions', async (t) => {
  const { bus } = await withBus(t);
  const results = await Promise.all([1, 2, 3].map(() => publishJourneyVersion(bus, doc('race'))));
  t.same(results.map((r) => r.version).sort(), [1, 2, 3]);
  const head = await readJourneyHead(bus, 'race');
  t.equal(head?.latest, 3);
  t.equal(Object.keys(head?.versions ?? {}).length, 3);
  t.equal(Object.values(head?.versions ?? {}).filter((s) => s === 'active').length, 1);
});

// An alias record read at a stream position: only the links made before it count, so that an
// ingest shard that lags resolves an event as a shard that is ahead did (profiles.ts aliasAt).
import t from 'tap';

import { aliasAt, type StoredProfile } from '../../../libs/bus/index.js';

const record = (links: { seq: number; to: string }[]): StoredProfile => ({
  v: 1,
  traits: {},
  audiences: [],
  aliasOf: links.at(-1)!.to,
  aliasLinks: links,
});

void t.test('the links before a sequence decide; none means the key is its own user', (t) => {
  const r = record([
    { seq: 10, to: 'u1' },
    { seq: 20, to: 'u2' },
  ]);
  t.equal(aliasAt(r, 5), undefined, 'before the first alias');
  t.equal(aliasAt(r, 10), undefined, 'the alias itself is not after itself');
  t.equal(aliasAt(r, 11), 'u1');
  t.equal(aliasAt(r, 20), 'u1');
  t.equal(aliasAt(r, 21), 'u2');
  t.equal(aliasAt(undefined, 1), undefined, 'no record');
  t.equal(aliasAt({ v: 1, traits: { a: 1 }, audiences: [] }, 1), undefined, 'a profile, not an alias');
  t.equal(
    aliasAt({ v: 1, traits: {}, audiences: [], aliasOf: 'old' }, 1),
    'old',
    'a record without links counts from the start of the stream',
  );
  t.end();
});

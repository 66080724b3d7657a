// removeKvRevision: one revision of a key deleted by its sequence, with no marker left behind;
// a revision already replaced by a newer write is not found, and the newer value stays.
import t from 'tap';

import { BUCKETS, removeKvRevision } from '../../../libs/bus/index.js';
import { withBus } from '../../helpers/bus.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

void t.test('the newest revision removed: no value and no marker; created again', async (t) => {
  const { bus } = await withBus(t);
  const kv = await bus.store(BUCKETS.instances);
  const rev = await kv.create('j.a.b', bytes('one'));
  const before = await bus.jsm.streams.info(`KV_${BUCKETS.instances}`);
  t.equal(before.state.messages, 1);
  t.equal(await removeKvRevision(bus, BUCKETS.instances, rev), true);
  t.equal(await kv.get('j.a.b'), null, 'the key is gone');
  const after = await bus.jsm.streams.info(`KV_${BUCKETS.instances}`);
  t.equal(after.state.messages, 0, 'no delete marker is stored');
  t.equal(await removeKvRevision(bus, BUCKETS.instances, rev), false, 'a second removal finds nothing');
  const again = await kv.create('j.a.b', bytes('two'));
  t.ok(again > rev, 'the key can be created again');
  t.equal(new TextDecoder().decode((await kv.get('j.a.b'))!.value), 'two');
});

void t.test('a replaced revision: nothing removed, the newer value stays', async (t) => {
  const { bus } = await withBus(t);
  const kv = await bus.store(BUCKETS.instances);
  const first = await kv.create('j.a.c', bytes('one'));
  const second = await kv.update('j.a.c', bytes('two'), first);
  t.equal(await removeKvRevision(bus, BUCKETS.instances, first), false);
  const entry = await kv.get('j.a.c');
  t.equal(entry?.revision, second);
  t.equal(new TextDecoder().decode(entry!.value), 'two');
});

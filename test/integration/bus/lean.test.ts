// The hot path's publisher and KV (libs/bus/lean.ts) against a real nats-server: the same
// answers and errors as the client's, since callers branch on them.
import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { errors } from '@nats-io/transport-node';
import t from 'tap';

import { BUCKETS, isCasConflict, LeanJetStream, LeanKv, STREAMS } from '../../../libs/bus/index.js';
import { withBus } from '../../helpers/bus.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

void t.test('publish: the stream ack, duplicates by Nats-Msg-Id, expected last sequence', async (t) => {
  const { bus } = await withBus(t);
  const first = await bus.lean.publish('journal.j.0', bytes('a'), { msgID: 'id-1' });
  t.equal(first.stream, STREAMS.JOURNAL);
  t.ok(first.seq > 0);
  t.equal(first.duplicate, false);
  const again = await bus.lean.publish('journal.j.0', bytes('a'), { msgID: 'id-1' });
  t.same(again, { ...first, duplicate: true }, 'a repeat is acked as the stored message');

  const ok = await bus.lean.publish('journal.j.0', bytes('b'), {
    expect: { lastSubjectSequence: first.seq },
  });
  t.equal(ok.seq, first.seq + 1);
  const stale = await bus.lean
    .publish('journal.j.0', bytes('c'), { expect: { lastSubjectSequence: first.seq } })
    .catch((e: unknown) => e);
  t.ok(stale instanceof JetStreamApiError, 'a wrong last sequence is the server error');
  t.equal((stale as JetStreamApiError).code, 10071);
  t.ok(isCasConflict(stale), 'and a CAS conflict to casUpdate');
  t.equal((await bus.jsm.streams.info(STREAMS.JOURNAL)).state.messages, 2);
});

void t.test('publish: no stream is NoResponders, no answer is a timeout, close rejects', async (t) => {
  const { bus } = await withBus(t);
  const none = await bus.lean.publish('nothing.here', bytes('x')).catch((e: unknown) => e);
  t.ok(none instanceof errors.NoRespondersError, `no responders: ${String(none)}`);

  const silent = bus.nc.subscribe('silent.subject', { callback: () => undefined });
  t.teardown(() => silent.unsubscribe());
  const lean = new LeanJetStream(bus.nc, { timeoutMs: 150 });
  const started = Date.now();
  const timedOut = await lean.publish('silent.subject', bytes('x')).catch((e: unknown) => e);
  t.ok(timedOut instanceof errors.TimeoutError, `timeout: ${String(timedOut)}`);
  t.ok(Date.now() - started >= 150, 'not before its timeout');
  t.equal(lean.inFlight, 0, 'a timed-out request is forgotten');

  const pending = lean.publish('silent.subject', bytes('y'), { timeout: 10_000 });
  t.equal(lean.inFlight, 1);
  lean.close();
  t.ok((await pending.catch((e: unknown) => e)) instanceof errors.ClosedConnectionError);
  t.ok(
    (await lean.publish('journal.j.0', bytes('z')).catch((e: unknown) => e)) instanceof
      errors.ClosedConnectionError,
  );
});

for (const reads of ['direct', 'leader'] as const) {
  void t.test(
    `kv (${reads} reads): misses are null, not exceptions; create, update and put by revision`,
    async (t) => {
      const { bus } = await withBus(t);
      const kv = bus.lean.kv(BUCKETS.state, { reads });
      t.equal(await kv.get('missing'), null);

      const r1 = await kv.create('k', bytes('one'));
      const got = await kv.get('k');
      t.same(got && { ...got, value: text(got.value) }, {
        key: 'k',
        value: 'one',
        revision: r1,
        operation: 'PUT',
      });
      const clash = await kv.create('k', bytes('two')).catch((e: unknown) => e);
      t.ok(isCasConflict(clash), 'create over a live key is a conflict');

      const r2 = await kv.update('k', bytes('two'), r1);
      t.ok(r2 > r1);
      t.ok(
        isCasConflict(await kv.update('k', bytes('three'), r1).catch((e: unknown) => e)),
        'stale revision',
      );
      const r3 = await kv.put('k', bytes('three'));
      t.equal(text((await kv.get('k'))!.value), 'three');

      // What the client's KV wrote, the lean one reads, and the other way round.
      const client = await bus.kv(BUCKETS.state);
      t.equal((await client.get('k'))?.revision, r3);
      await client.delete('k');
      t.equal((await kv.get('k'))?.operation, 'DEL', 'a delete marker');
      const r4 = await kv.create('k', bytes('again'));
      t.ok(r4 > r3, 'a deleted key may be created again');
      t.equal((await client.get('k'))?.string(), 'again');
      await client.purge('k');
      t.equal((await kv.get('k'))?.operation, 'PURGE');

      await t.rejects(kv.get('bad key'), /invalid key 'bad key'/);
      if (reads === 'leader') {
        // The leader's other answers are its typed errors: a bucket deleted under us.
        await bus.jsm.streams.delete(`KV_${BUCKETS.state}`);
        const gone = await kv.get('k').catch((e: unknown) => e);
        t.ok(gone instanceof JetStreamApiError, `a missing stream: ${String(gone)}`);
        t.equal((gone as JetStreamApiError).code, 10059);
      }
      await t.rejects(kv.put('a..b', bytes('x')), /invalid key/);
    },
  );
}

void t.test('store: direct reads on one replica, else the leader answers', async (t) => {
  const { bus } = await withBus(t);
  const one = await bus.store(BUCKETS.state);
  t.ok(one instanceof LeanKv && one.reads === 'direct', 'one replica: direct gets');
  await new Kvm(bus.js).create('nodirect', { allow_direct: false });
  const kv = await bus.store('nodirect');
  t.ok(kv instanceof LeanKv && kv.reads === 'leader', 'no direct gets: the leader');
  t.equal(await kv.get('a'), null);
  await kv.put('a', bytes('1'));
  t.equal(text((await kv.get('a'))!.value), '1');
  t.equal(await bus.store('nodirect'), kv, 'cached per name');
  const missing = bus.store('no-such-bucket');
  await t.rejects(missing, 'a missing bucket is an error');
  const retried = bus.store('no-such-bucket');
  t.not(retried, missing, 'and the failure is not cached');
  await t.rejects(retried);
});

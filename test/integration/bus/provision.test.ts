import t from 'tap';

import { BUCKETS, desiredStreams, provision, STREAMS } from '../../../libs/bus/index.js';
import { silentLogger, withBus } from '../../helpers/bus.js';

void t.test('provisioning creates everything, then is a no-op, then reports drift', async (t) => {
  const { bus, config } = await withBus(t);
  // withBus provisioned once already: a second run changes nothing.
  const again = await provision(bus, config, silentLogger);
  t.same(again.created, []);
  t.same(again.updated, []);
  t.same(again.drift, []);
  t.same(
    again.unchanged.sort(),
    [...Object.values(STREAMS), ...Object.values(BUCKETS).map((b) => `KV_${b}`)].sort(),
  );

  const events = await bus.jsm.streams.info(STREAMS.EVENTS);
  t.same(events.config.subjects, ['events.>']);
  t.equal(events.config.max_age, config.eventsMaxAgeMs * 1_000_000);
  t.equal(events.config.duplicate_window, 120_000 * 1_000_000);
  t.equal((await bus.jsm.streams.info(STREAMS.MATCH)).config.retention, 'workqueue');
  const sent = await bus.jsm.streams.info('KV_sent');
  t.equal(sent.config.max_age, config.idempotencyWindowMs * 1_000_000);
  const dedupe = await bus.jsm.streams.info('KV_ingest_dedupe');
  t.equal(dedupe.config.max_age, config.ingestDedupeWindowMs * 1_000_000, 'ingest dedupe window');
  await bus.kv(BUCKETS.instances); // opens

  // Someone changes EVENTS by hand, and JOURNAL loses a subject (it keeps the extra one).
  await bus.jsm.streams.update(STREAMS.EVENTS, { max_age: 3_600 * 1e9 });
  await bus.jsm.streams.update(STREAMS.JOURNAL, { subjects: ['journal.legacy'] });
  await bus.js.publish('events.keep', new Uint8Array([1]));
  const drifted = await provision(bus, config, silentLogger);
  t.same(drifted.created, []);
  t.same(drifted.updated.sort(), [STREAMS.EVENTS, STREAMS.JOURNAL]);
  t.same(
    drifted.drift.map((d) => [d.resource, d.field, d.desired, d.actual, d.action]),
    [
      [STREAMS.EVENTS, 'max_age', config.eventsMaxAgeMs * 1e6, 3_600 * 1e9, 'updated'],
      [STREAMS.JOURNAL, 'subjects', ['journal.*.*'], ['journal.legacy'], 'updated'],
    ],
  );
  t.equal((await bus.jsm.streams.info(STREAMS.EVENTS)).state.messages, 1, 'no data deleted');
  t.same((await bus.jsm.streams.info(STREAMS.JOURNAL)).config.subjects, ['journal.legacy', 'journal.*.*']);

  // A change that is not safe (replicas on a single server) is only reported.
  const wanted = { ...config, replicas: 3 };
  const unsafe = await provision(bus, wanted, silentLogger);
  t.ok(unsafe.drift.length >= desiredStreams(wanted).length);
  t.ok(unsafe.drift.every((d) => d.field === 'num_replicas' && d.action === 'kept'));
  t.same(unsafe.updated, []);
});

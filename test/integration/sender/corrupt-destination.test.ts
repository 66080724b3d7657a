// A job for a destination whose stored value is corrupt goes to dlq.deliver at once, as
// destination_invalid naming the key; other destinations keep delivering.
import t from 'tap';

import { BUCKETS, putDestination } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { job, withSender } from './helpers.js';

void t.test('a corrupt destination value: dlq destination_invalid, others unaffected', async (t) => {
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const h = await withSender(t);
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: `${sink.url}/hook` });
  const kv = await h.bus.kv(BUCKETS.destinations);
  await kv.put('broken', new TextEncoder().encode('{"v":1,"id":"broken","type":"webhook","url":3}'));

  await h.publishJob(job({ destination: 'broken' }));
  await h.publishJob(job({ destination: 'crm' }));
  await sink.waitFor(1, 10_000);
  await waitUntil(async () => (await h.dlq()).length === 1, 10_000, 'dlq record');
  const [rec] = await h.dlq();
  t.equal(rec!.reason, 'destination_invalid');
  t.equal(rec!.deliveryCount, 1, 'at once');
  t.match(rec!.detail, /destinations\/broken: url/);
});

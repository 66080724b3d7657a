// Defence in depth: a send job on a deliver.<p> its user does not hash to was not published by the
// matcher (which puts a user's jobs on the user's partition): it is dead-lettered as
// wrong_partition, and nothing is sent or signed.
import t from 'tap';

import { DeliverJobMessage, publishWithId, putDestination, subjects } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { job, userOn, withSender } from './helpers.js';

void t.test('a job on another partition than its user is refused, unsent', async (t) => {
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const h = await withSender(t);
  await putDestination(h.bus, {
    v: 1,
    id: 'crm',
    type: 'webhook',
    url: `${sink.url}/hook`,
    secret: `whsec_${Buffer.from('a test secret of 24 bytes').toString('base64')}`,
  });
  const forged = job({ userKey: userOn(1), payload: { forged: true } });
  await publishWithId(h.bus.js, subjects.deliver(0), DeliverJobMessage.encode(forged), forged.deliveryId);
  await waitUntil(async () => (await h.dlq()).length === 1, 10_000, 'dlq.deliver record');
  const [rec] = await h.dlq();
  t.equal(rec!.reason, 'wrong_partition');
  t.match(rec!.detail, /deliver\.0: its user hashes to partition 1 of 2/);

  const real = job({ payload: { real: true } });
  await h.publishJob(real);
  await sink.waitFor(1, 10_000);
  t.same(
    sink.requests.map((r) => r.body),
    [{ real: true }],
    'only the job on its partition was sent',
  );
});

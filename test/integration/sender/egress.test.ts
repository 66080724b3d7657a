// Without CAIRN_EGRESS_ALLOW_LOOPBACK, webhooks to loopback (by IP or by name) are refused
// and the job goes to the DLQ with reason egress_denied, without a request.
import t from 'tap';

import { putDestination } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { isInternalAddress, job, withSender } from './helpers.js';

void t.test('internal addresses', (t) => {
  for (const ip of [
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '0.0.0.0',
  ])
    t.ok(isInternalAddress(ip), ip);
  for (const ip of ['8.8.8.8', '172.32.0.1', '2606:4700::1111', 'example.com'])
    t.notOk(isInternalAddress(ip), ip);
  t.end();
});

void t.test('loopback webhooks are refused by default', async (t) => {
  const h = await withSender(t, {}, { CAIRN_EGRESS_ALLOW_LOOPBACK: 'false' });
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  await putDestination(h.bus, { v: 1, id: 'by-ip', type: 'webhook', url: sink.url });
  await putDestination(h.bus, {
    v: 1,
    id: 'by-name',
    type: 'webhook',
    url: `http://localhost:${sink.port}/`,
  });
  await h.publishJob(job({ destination: 'by-ip' }));
  await h.publishJob(job({ destination: 'by-name' }));
  await waitUntil(
    async () => (await h.dlq()).filter((r) => r.reason === 'egress_denied').length === 2,
    10_000,
    'two egress_denied records',
  );
  t.equal(sink.requests.length, 0, 'no request reached the sink');
});

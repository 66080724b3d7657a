// The egress guard: by default webhooks to loopback, private and link-local networks (by IP or
// by name) are refused and the job goes to the DLQ with reason egress_denied, without a request;
// CAIRN_EGRESS_ALLOW opens a network, CAIRN_EGRESS_DENY closes more.
import t from 'tap';

import { putDestination } from '../../../libs/bus/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { loadConfig, parseCidr } from '../../../libs/config/index.js';
import { EgressPolicy } from '../../../services/sender/index.js';
import { job, withSender } from './helpers.js';

void t.test('the default policy denies internal networks only', (t) => {
  const policy = EgressPolicy.fromConfig(loadConfig({}));
  const isInternalAddress = (ip: string): boolean => !policy.permits(ip);
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
  for (const ip of ['8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])
    t.notOk(isInternalAddress(ip), ip);
  t.notOk(policy.permits('example.com'), 'a name is not an address');
  t.end();
});

void t.test('allow and deny lists', (t) => {
  const cidrs = (s: string) => s.split(',').map((c) => parseCidr(c)!);
  const policy = EgressPolicy.fromConfig(
    loadConfig({
      CAIRN_EGRESS_ALLOW: '10.20.0.0/16,fd00:1::/32',
      CAIRN_EGRESS_DENY: '10.0.0.0/8,203.0.113.0/24,fd00::/8',
    }),
  );
  t.ok(policy.permits('10.20.3.4'), 'an allowed subnet inside a denied one');
  t.notOk(policy.permits('10.21.0.1'), 'the rest of the denied one');
  t.notOk(policy.permits('203.0.113.9'), 'a denied public network');
  t.ok(policy.permits('127.0.0.1'), 'loopback is not in this deny list');
  t.ok(policy.permits('fd00:1::5'));
  t.notOk(policy.permits('fd00:2::5'));
  t.ok(new EgressPolicy(cidrs('0.0.0.0/0'), [], true).permits('10.0.0.1'), 'open allows all');
  t.throws(() => loadConfig({ CAIRN_EGRESS_DENY: '10.0.0.0/33' }), /CAIRN_EGRESS_DENY.*10\.0\.0\.0\/33/s);
  t.throws(() => loadConfig({ CAIRN_EGRESS_ALLOW: 'intranet' }), /CAIRN_EGRESS_ALLOW/);
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

void t.test('CAIRN_EGRESS_ALLOW lets a webhook reach a network the deny list covers', async (t) => {
  const h = await withSender(
    t,
    {},
    { CAIRN_EGRESS_ALLOW_LOOPBACK: 'false', CAIRN_EGRESS_ALLOW: '127.0.0.1/32' },
  );
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url });
  await h.publishJob(job({ destination: 'crm' }));
  await sink.waitFor(1, 10_000);
  t.equal(sink.requests.length, 1, 'delivered');
  t.same(
    (await h.dlq()).filter((r) => r.reason === 'egress_denied'),
    [],
  );
});

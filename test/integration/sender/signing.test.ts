// Standard Webhooks signatures, checked by the reference implementation (npm `standardwebhooks`):
// several secrets sign at once (rotation) and a receiver that knows any one of them accepts.
import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';
import t from 'tap';

import { putDestination } from '../../../libs/bus/index.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { job, withSender } from './helpers.js';

const secret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

void t.test('every secret signs; standardwebhooks verifies each', async (t) => {
  const h = await withSender(t);
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const [oldSecret, newSecret, stranger] = [secret(), secret(), secret()];
  await putDestination(h.bus, {
    v: 1,
    id: 'crm',
    type: 'webhook',
    url: `${sink.url}/hook`,
    secrets: [oldSecret, newSecret],
  });

  const j = job({ payload: { event: 'Cart Abandoned', text: 'naïve ☃ "quoted"', n: 1.5 } });
  await h.publishJob(j);
  const [req] = await sink.waitFor(1);
  const headers = {
    'webhook-id': String(req!.headers['webhook-id']),
    'webhook-timestamp': String(req!.headers['webhook-timestamp']),
    'webhook-signature': String(req!.headers['webhook-signature']),
  };
  t.equal(headers['webhook-id'], j.deliveryId, 'webhook-id is the delivery id');
  t.equal(headers['webhook-signature'].split(' ').length, 2, 'one signature per secret');
  t.ok(/^v1,[A-Za-z0-9+/]+=*( v1,[A-Za-z0-9+/]+=*)*$/.test(headers['webhook-signature']));

  t.same(new Webhook(oldSecret).verify(req!.text, headers), j.payload, 'the old secret verifies');
  t.same(new Webhook(newSecret).verify(req!.text, headers), j.payload, 'the new secret verifies');
  t.throws(() => new Webhook(stranger).verify(req!.text, headers), 'another secret does not');
  t.throws(
    () => new Webhook(newSecret).verify(req!.text.replace('1.5', '2.5'), headers),
    'a changed body does not',
  );
});

void t.test('the single secret form still signs', async (t) => {
  const h = await withSender(t);
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const only = secret();
  await putDestination(h.bus, { v: 1, id: 'crm', type: 'webhook', url: sink.url, secret: only });
  await h.publishJob(job());
  const [req] = await sink.waitFor(1);
  const headers = Object.fromEntries(
    ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((k) => [k, String(req!.headers[k])]),
  );
  t.ok(new Webhook(only).verify(req!.text, headers));
});

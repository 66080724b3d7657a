// A send step with several destinations fans out to independent jobs: each destination gets its
// own delivery id, and one that fails (retrying) does not hold back the other.
import t from 'tap';

import { parseDestinationFile, putDestination } from '../../libs/bus/index.js';
import { startHttpSink } from '../helpers/http-sink.js';
import {
  deliveryIdOf,
  journey,
  oracle,
  publishEvent,
  publishJourneys,
  startPipeline,
  type ProducerEvent,
} from '../helpers/pipeline.js';

const FORWARD = `
id: forward
name: Forward to two systems
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink, down], event: Form Submitted }
`;

void t.test('one send step, two destinations, independent jobs', async (t) => {
  const { bus, sink } = await startPipeline(t);
  const down = await startHttpSink(() => 503);
  t.teardown(() => down.close());
  await putDestination(bus, parseDestinationFile({ id: 'down', type: 'webhook', url: `${down.url}/hook` }));
  const doc = journey(FORWARD);
  await publishJourneys(bus, doc);

  const event: ProducerEvent = [
    'track',
    { userId: 'u1', messageId: 'm1', event: 'form_submitted', properties: { form_id: 'f1' } },
  ];
  const expected = oracle([doc], [event]).sends.map((s) => [s.destination, s.deliveryId]);
  t.equal(expected.length, 2, 'the simulator predicts one delivery per destination');
  await publishEvent(bus, event);

  await down.waitFor(2, 15_000); // the failing destination is being retried...
  t.equal(sink.requests.length, 1, '...while the healthy one got its delivery once');
  t.same(
    [
      ['down', deliveryIdOf(down.requests[0]!)],
      ['sink', deliveryIdOf(sink.requests[0]!)],
    ],
    expected.sort(),
    'each destination has its own delivery id',
  );
  t.equal(deliveryIdOf(down.requests[1]!), deliveryIdOf(down.requests[0]!), 'a retry keeps its id');
  t.ok(sink.requests[0]!.at <= down.requests[1]!.at, 'the healthy delivery did not wait for the retry');
});

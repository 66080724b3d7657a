// A shadow version published over the API, then promoted: the head's versions at each step, and
// the registry's refusals with their codes.
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- the JSON answers are checked field by field */
import t from 'tap';

import { readJourneyHead } from '../../../libs/bus/index.js';
import { withBus } from '../../helpers/bus.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from './helpers.js';

const source = (name: string) => `id: welcome
name: ${name}
trigger:
  event: signed_up
entry:
  mode: once
steps:
  - id: wait
    type: delay
    after: 1h
`;

void t.test('publish a shadow, promote it', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);
  let r = await client.call('POST', '/api/v1/journeys', { body: { source: source('One'), shadow: true } });
  t.equal(r.status, 404, 'no journey to shadow');
  t.equal(r.body.error.code, 'CAIRN_E_JOURNEY_NOT_FOUND');

  r = await client.call('POST', '/api/v1/journeys', { body: { source: source('One') } });
  t.equal(r.status, 201);
  r = await client.call('POST', '/api/v1/journeys/welcome/promote');
  t.equal(r.status, 409);
  t.equal(r.body.error.code, 'CAIRN_E_JOURNEY_NO_SHADOW');

  r = await client.call('POST', '/api/v1/journeys', {
    body: { source: source('Two'), shadow: true, previous: 'archive' },
  });
  t.equal(r.status, 400, 'shadow with previous');
  r = await client.call('POST', '/api/v1/journeys', {
    token: READ_TOKEN,
    body: { source: source('Two'), shadow: true },
  });
  t.equal(r.status, 403);
  r = await client.call('POST', '/api/v1/journeys', { body: { source: source('Two'), shadow: true } });
  t.equal(r.status, 201);
  t.match(r.body, { id: 'welcome', version: 2, shadow: true });
  let head = await readJourneyHead(bus, 'welcome');
  t.equal(head?.active, 1, 'the active version is unchanged');
  t.equal(head?.shadow, 2, 'v2 is the shadow');

  r = await client.call('POST', '/api/v1/journeys/welcome/promote');
  t.equal(r.status, 200);
  t.same(r.body, { id: 'welcome', version: 2, previous: 1 });
  head = await readJourneyHead(bus, 'welcome');
  t.equal(head?.active, 2);
  t.equal(head?.shadow ?? null, null);
  t.equal(head?.versions['1'], 'draining');
});

// Bearer tokens, roles, the audit trail and CORS of the admin HTTP API, over HTTP against a
// real nats-server.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment -- the JSON answers are checked field by field */
import t from 'tap';

import { DeliverPolicy } from '@nats-io/jetstream';

import { STREAMS, type Bus } from '../../../libs/bus/index.js';
import type { AuditRecord } from '../../../services/admin/index.js';
import { withBus } from '../../helpers/bus.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from './helpers.js';

/** Every record of stream AUDIT, oldest first. */
async function auditRecords(bus: Bus): Promise<AuditRecord[]> {
  const info = await bus.jsm.streams.info(STREAMS.AUDIT);
  const out: AuditRecord[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await bus.js.consumers.get(STREAMS.AUDIT, { deliver_policy: DeliverPolicy.All });
  const batch = await consumer.fetch({ max_messages: info.state.messages, expires: 2_000 });
  for await (const m of batch) {
    t.equal(m.subject, 'audit.admin');
    out.push(m.json<AuditRecord>());
  }
  return out;
}

const DRAFT = `id: welcome
name: Welcome
trigger:
  event: signed_up
entry:
  mode: once
steps:
  - id: wait
    type: delay
    after: 1h
`;

void t.test('no token 401, a read token cannot write, a write token can; each write audited', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);

  let r = await client.call('GET', '/api/v1/journeys', { token: null });
  t.equal(r.status, 401);
  t.equal(r.body.error.code, 'CAIRN_E_ADMIN_UNAUTHORIZED');
  t.match(r.body.error.hint, /Authorization: Bearer/);
  r = await client.call('GET', '/api/v1/journeys', { token: 'r-0123456789abcdef0124' });
  t.equal(r.status, 401, 'a token one character off');
  t.match(r.body.error.message, /not one of CAIRN_ADMIN_TOKENS/);
  r = await client.call('GET', '/api/v1/journeys', {
    headers: { authorization: `Basic ${READ_TOKEN}` },
    token: null,
  });
  t.equal(r.status, 401, 'not a bearer token');

  r = await client.call('GET', '/api/v1/journeys', { token: READ_TOKEN });
  t.equal(r.status, 200);
  t.same(r.body.journeys, []);
  r = await client.call('POST', '/api/v1/journeys/validate', { token: READ_TOKEN, body: { source: DRAFT } });
  t.equal(r.status, 200, 'validating a draft is a read');
  t.equal(r.body.ok, true, JSON.stringify(r.body));

  r = await client.call('POST', '/api/v1/journeys', { token: READ_TOKEN, body: { source: DRAFT } });
  t.equal(r.status, 403);
  t.equal(r.body.error.code, 'CAIRN_E_ADMIN_FORBIDDEN');
  t.match(r.body.error.message, /token dash is read-only/);
  r = await client.call('GET', '/api/v1/journeys/welcome');
  t.equal(r.status, 404, 'nothing was published');

  const before = Date.now();
  r = await client.call('POST', '/api/v1/journeys', { body: { source: DRAFT } });
  t.equal(r.status, 201, JSON.stringify(r.body));
  t.same(
    { id: r.body.id, version: r.body.version, unchanged: r.body.unchanged },
    { id: 'welcome', version: 1, unchanged: false },
  );
  r = await client.call('POST', '/api/v1/journeys/nope/archive');
  t.equal(r.status, 404);
  t.equal(r.body.error.code, 'CAIRN_E_JOURNEY_NOT_FOUND');

  const audit = await auditRecords(bus);
  t.equal(audit.length, 3, 'the refused write, the publish and the failed archive; no reads');
  const [refused, published, failed] = audit;
  t.match(refused, {
    v: 1,
    who: 'dash',
    role: 'read',
    method: 'POST',
    route: '/api/v1/journeys',
    outcome: 'refused',
    status: 403,
    code: 'CAIRN_E_ADMIN_FORBIDDEN',
  });
  t.match(published, {
    who: 'ops',
    role: 'write',
    method: 'POST',
    route: '/api/v1/journeys',
    target: { journeyId: 'welcome', version: 1, unchanged: false },
    outcome: 'ok',
    status: 201,
  });
  t.ok(Date.parse(published!.at) >= before - 1_000 && Date.parse(published!.at) <= Date.now(), 'when');
  t.match(failed, {
    who: 'ops',
    route: '/api/v1/journeys/:id/archive',
    params: { id: 'nope' },
    outcome: 'failed',
    status: 404,
    code: 'CAIRN_E_JOURNEY_NOT_FOUND',
  });
  t.equal(published!.ip, '127.0.0.1');
});

void t.test('CORS is closed by default: no Access-Control headers, preflight refused', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);
  const origin = { origin: 'https://evil.example' };
  let r = await client.call('GET', '/api/v1/journeys', { token: READ_TOKEN, headers: origin });
  t.equal(r.status, 200);
  t.equal(r.headers.get('access-control-allow-origin'), null);
  r = await client.call('OPTIONS', '/api/v1/journeys', {
    token: null,
    headers: { ...origin, 'access-control-request-method': 'POST' },
  });
  t.not(r.status, 204);
  t.equal(r.headers.get('access-control-allow-origin'), null);
  t.equal(r.headers.get('access-control-allow-methods'), null);
});

void t.test('CORS open to the origins of CAIRN_ADMIN_CORS_ORIGINS only', async (t) => {
  const { bus, config } = await withBus(t, {
    ...TOKENS_ENV,
    CAIRN_ADMIN_CORS_ORIGINS: 'https://console.example.com',
  });
  const client = await withAdmin(t, bus, config);
  const allowed = { origin: 'https://console.example.com' };
  let r = await client.call('OPTIONS', '/api/v1/journeys', {
    token: null,
    headers: { ...allowed, 'access-control-request-method': 'POST' },
  });
  t.equal(r.status, 204);
  t.equal(r.headers.get('access-control-allow-origin'), 'https://console.example.com');
  t.match(r.headers.get('access-control-allow-headers'), /authorization/);
  r = await client.call('GET', '/api/v1/journeys', { token: READ_TOKEN, headers: allowed });
  t.equal(r.headers.get('access-control-allow-origin'), 'https://console.example.com');
  r = await client.call('GET', '/api/v1/journeys', {
    token: READ_TOKEN,
    headers: { origin: 'https://other.example' },
  });
  t.equal(r.headers.get('access-control-allow-origin'), null);
});

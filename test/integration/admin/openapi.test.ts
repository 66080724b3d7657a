// The OpenAPI document against the routes the service registers: every route is documented,
// every documented route exists, with the role it declares; and the stats route answers.
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- the JSON answers are checked field by field */
import t from 'tap';

import { buildAdminApp, OPENAPI } from '../../../services/admin/index.js';
import { statsSource } from '../../../services/admin/stats-source.js';
import { silentLogger, withBus } from '../../helpers/bus.js';
import { TOKENS_ENV, withAdmin } from './helpers.js';

const key = (method: string, url: string) => `${method.toUpperCase()} ${url}`;

void t.test('every route is in the OpenAPI document, and every documented route exists', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const { app, routes } = await buildAdminApp({ bus, config, logger: silentLogger, stats: statsSource });
  t.teardown(() => app.close());
  const registered = new Set(routes.map((r) => key(r.method, r.url.replace(/:(\w+)/g, '{$1}'))));
  const documented = new Set<string>();
  const roles = new Map<string, string | undefined>();
  for (const [path, ops] of Object.entries(OPENAPI.paths)) {
    for (const [method, op] of Object.entries(ops as Record<string, Record<string, unknown>>)) {
      const k = key(method, `/api/v1${path}`);
      documented.add(k);
      roles.set(k, op['x-cairn-role'] as string | undefined);
    }
  }
  t.ok(registered.size >= 17, `${registered.size} routes registered`);
  for (const r of registered) t.ok(documented.has(r), `${r} is documented`);
  for (const d of documented) t.ok(registered.has(d), `${d} is registered`);
  // The role each documents is the one the route enforces.
  for (const r of routes) {
    const k = key(r.method, r.url.replace(/:(\w+)/g, '{$1}'));
    t.equal(roles.get(k), r.role, `${k}: role ${r.role}`);
  }
  t.same(
    routes
      .filter((r) => r.role === 'write')
      .map((r) => key(r.method, r.url))
      .sort(),
    [
      'DELETE /api/v1/dlq/:seq',
      'POST /api/v1/destinations/:id/test',
      'POST /api/v1/dlq/:seq/retry',
      'POST /api/v1/journeys',
      'POST /api/v1/journeys/:id/archive',
      'POST /api/v1/journeys/:id/promote',
    ],
    'the writes',
  );
});

void t.test('the document is served without a token; the stats route is there', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);
  const doc = await client.call('GET', '/api/v1/openapi.json', { token: null });
  t.equal(doc.status, 200);
  t.equal(doc.body.openapi, '3.1.0');
  t.ok(doc.body.paths['/journeys/{id}/stats'].get, 'stats documented');
  t.notOk(doc.body.paths['/journeys/{id}/stats'].get.responses['501'], 'no 501: the stats are read');
  // The stats reader's codes, with the message and hint of `cairn journey stats`.
  const missing = await client.call('GET', '/api/v1/journeys/nope/stats');
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'CAIRN_E_STATS_NOT_FOUND');
  t.equal(missing.body.error.message, 'journey nope does not exist');
  t.match(missing.body.error.hint, /cairn journey list/);
  const wide = await client.call('GET', '/api/v1/journeys/nope/stats?since=8d');
  t.equal(wide.status, 400);
  t.equal(wide.body.error.code, 'CAIRN_E_STATS_WINDOW');
  t.match(wide.body.error.hint, /7 days/);
  const unknown = await client.call('GET', '/api/v1/nothing-here');
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'CAIRN_E_ADMIN_NOT_FOUND');
});

// The console's built files at `/`: a file by its path, index.html for the console's own routes,
// nothing outside the directory, and the API's 404s stay JSON.
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- the JSON answers are checked field by field */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { withBus } from '../../helpers/bus.js';
import { TOKENS_ENV, withAdmin } from './helpers.js';

/** A GET with the path sent as written (fetch would normalize `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'GET', path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

void t.test('serves the console, falls back to index.html, never leaves its directory', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cairn-console-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'console');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Cairn</title>');
  await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(root, 'secret.txt'), 'do not serve');
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const { admin } = await withAdmin(t, bus, config, { consoleDir: dir });

  let r = await rawGet(admin.url, '/');
  t.equal(r.status, 200);
  t.match(r.type, /text\/html/);
  t.match(r.body, /<title>Cairn<\/title>/);
  r = await rawGet(admin.url, '/assets/app.js');
  t.match(r.type, /javascript/);
  t.equal(r.body, 'console.log(1)');
  r = await rawGet(admin.url, '/journeys/welcome');
  t.match(r.body, /<title>Cairn/, 'a console route gets index.html');
  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
    r = await rawGet(admin.url, path);
    t.notMatch(r.body, /do not serve/, path);
  }
  r = await rawGet(admin.url, '/api/v1/nothing');
  t.equal(r.status, 401, 'the API is not the console');
  r = await rawGet(admin.url, '/api/v1/openapi.json');
  t.match(r.type, /application\/json/);
});

void t.test('without a built console, `/` is a JSON 404', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config, { consoleDir: '/nonexistent/console' });
  const r = await client.call('GET', '/', { token: null });
  t.equal(r.status, 404);
  t.equal(r.body.error.code, 'CAIRN_E_ADMIN_NOT_FOUND');
});

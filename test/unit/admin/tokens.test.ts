// The admin API's token checks, the console's path guard, problem positions and the settings.
import t from 'tap';

import { loadConfig, ConfigError } from '../../../libs/config/index.js';
import {
  authenticate,
  bearerOf,
  constantTimeEqual,
  fileInside,
  positionOf,
} from '../../../services/admin/index.js';

void t.test('constantTimeEqual compares content and length, of any length', (t) => {
  t.ok(constantTimeEqual('abc', 'abc'));
  t.notOk(constantTimeEqual('abc', 'abd'));
  t.notOk(constantTimeEqual('abc', 'abcd'), 'a prefix is not equal');
  t.notOk(constantTimeEqual('', 'a'));
  t.ok(constantTimeEqual('', ''));
  t.ok(constantTimeEqual('é'.repeat(300), 'é'.repeat(300)));
  t.notOk(constantTimeEqual('x'.repeat(10_000), `${'x'.repeat(9_999)}y`));
  t.end();
});

void t.test('bearerOf reads Authorization: Bearer <token> only', (t) => {
  t.equal(bearerOf('Bearer abc'), 'abc');
  t.equal(bearerOf('bearer   abc '), 'abc');
  t.equal(bearerOf('Basic abc'), undefined);
  t.equal(bearerOf('Bearer'), undefined);
  t.equal(bearerOf('Bearer a b'), undefined);
  t.equal(bearerOf(undefined), undefined);
  t.end();
});

void t.test('authenticate finds the token, with its name and role', (t) => {
  const tokens = [
    { name: 'ops', role: 'write' as const, token: 'w'.repeat(20) },
    { name: 'dash', role: 'read' as const, token: 'r'.repeat(20) },
  ];
  t.equal(authenticate(tokens, 'r'.repeat(20))?.name, 'dash');
  t.equal(authenticate(tokens, 'w'.repeat(20))?.role, 'write');
  t.equal(authenticate(tokens, 'w'.repeat(19)), undefined);
  t.equal(authenticate([], 'w'.repeat(20)), undefined);
  t.end();
});

void t.test('CAIRN_ADMIN_TOKENS: name:role:token, errors that never show the token', (t) => {
  const c = loadConfig({ CAIRN_ADMIN_TOKENS: 'ops:write:aaaaaaaaaaaaaaaa, dash:read:bbbbbbbbbbbbbbbb' });
  t.same(c.adminTokens, [
    { name: 'ops', role: 'write', token: 'aaaaaaaaaaaaaaaa' },
    { name: 'dash', role: 'read', token: 'bbbbbbbbbbbbbbbb' },
  ]);
  t.same(loadConfig({}).adminTokens, []);
  t.equal(loadConfig({}).adminPort, 8090);
  const bad = [
    'ops:admin:aaaaaaaaaaaaaaaa',
    'ops:write:short-secret',
    'ops:aaaaaaaaaaaaaaaa',
    'ops:write:aaaaaaaaaaaaaaaa,ops:read:bbbbbbbbbbbbbbbb',
  ];
  for (const value of bad) {
    t.throws(() => loadConfig({ CAIRN_ADMIN_TOKENS: value }), ConfigError, value);
    try {
      loadConfig({ CAIRN_ADMIN_TOKENS: value });
    } catch (err) {
      const message = (err as Error).message;
      t.match(message, /CAIRN_ADMIN_TOKENS/);
      t.notMatch(message, /aaaaaaaaaaaaaaaa|short-secret|bbbbbbbbbbbbbbbb/, `no secret in: ${message}`);
    }
  }
  t.throws(() => loadConfig({ CAIRN_ADMIN_PORT: '8088' }), /never shares the ingest port/);
  t.throws(() => loadConfig({ CAIRN_ADMIN_CORS_ORIGINS: 'console.example.com' }), /not an origin/);
  t.same(
    loadConfig({ CAIRN_ADMIN_CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).adminCorsOrigins,
    ['https://a.example', 'http://localhost:5173'],
  );
  t.end();
});

void t.test('fileInside never leaves the console directory', (t) => {
  t.equal(fileInside('/srv/console', '/'), '/srv/console', 'the directory itself (not a file: index.html)');
  t.equal(fileInside('/srv/console', '/assets/app.js'), '/srv/console/assets/app.js');
  t.equal(fileInside('/srv/console', '/../secret'), undefined);
  t.equal(fileInside('/srv/console', '/%2e%2e/%2e%2e/etc/passwd'), undefined);
  t.equal(fileInside('/srv/console', '/a/../../console-other/x'), undefined);
  t.equal(fileInside('/srv/console', '/..%2fsecret'), undefined);
  t.equal(fileInside('/srv/console', '/x%00.js'), undefined);
  t.equal(fileInside('/srv/console', '/%E0%A4%A'), undefined, 'bad escapes');
  t.end();
});

void t.test('positionOf: the line and column of a path, or of its nearest parent', (t) => {
  const source = 'id: a\nsteps:\n  - id: s\n    type: send\n    to:\n      - crm\n';
  t.same(positionOf(source, 'steps[0].to[0]'), { line: 6, column: 9 });
  t.same(positionOf(source, 'steps[0].next'), { line: 3, column: 5 }, 'absent: its step');
  t.same(positionOf('{"id": "a",\n "steps": [{"to": ["x"]}]}', 'steps[0].to[0]'), { line: 2, column: 20 });
  t.equal(positionOf('a: [', 'a'), undefined, 'unreadable source');
  t.end();
});

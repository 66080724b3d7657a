// Journeys over the admin API: a broken draft's problems at their lines with the CLI's codes;
// publish, list, show, a version's source and graph, archive.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call -- the JSON answers are checked field by field */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { putDestination } from '../../../libs/bus/index.js';
import { journeyGraph, type JourneyDocument } from '../../../libs/journey/index.js';
import { runCli } from '../../../services/cli/cli.js';
import { withBus } from '../../helpers/bus.js';
import { captureIo } from '../cli/helpers.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from './helpers.js';

const BROKEN = `id: Welcome Flow
name: Welcome
trigger:
  event: signed_up
entry:
  mode: once
steps:
  - id: wait
    type: delay
    after: 3 parsecs
  - id: hello
    type: send
    to: [crm]
    event: welcome
    nxt: wait
`;

const GOOD = `id: welcome
name: Welcome
trigger:
  event: signed_up
entry:
  mode: once
steps:
  - id: branch
    type: random_split
    branches:
      - { id: a, weight: 50, next: hello }
      - { id: b, weight: 50 }
  - id: hello
    type: send
    to: [crm]
    event: welcome
`;

void t.test('validate: the CLI codes, each problem at its line and column', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);
  const r = await client.call('POST', '/api/v1/journeys/validate', {
    token: READ_TOKEN,
    body: { source: BROKEN },
  });
  t.equal(r.status, 200);
  t.equal(r.body.ok, false);
  const problems = r.body.problems as Array<{ code: string; path: string; line: number; column: number }>;

  // The CLI on the same text, as a file: file:line:col: severity code at path: ...
  const dir = await mkdtemp(join(tmpdir(), 'cairn-admin-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'broken.yaml');
  await writeFile(file, BROKEN);
  const io = captureIo({});
  t.equal(await runCli(['journey', 'validate', file], io), 1);
  const cli = io.stdout
    .map((l) => /^.*?:(\d+):(\d+): \w+ (CAIRN_[EW]_\w+) at (\S+):/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ line: Number(m[1]), column: Number(m[2]), code: m[3]!, path: m[4]! }));
  t.ok(cli.length >= 3, `the CLI reports ${cli.length} problems`);
  t.same(
    problems.map((p) => ({ line: p.line, column: p.column, code: p.code, path: p.path })),
    cli,
    'the same problems, codes, paths and positions as `cairn journey validate`',
  );
  const byCode = (code: string) => problems.find((p) => p.code === code);
  t.match(byCode('CAIRN_E_JOURNEY_BAD_ID'), { path: 'id', line: 1 });
  t.match(byCode('CAIRN_E_JOURNEY_BAD_DURATION'), { path: 'steps[0].after', line: 10, column: 12 });
  t.match(byCode('CAIRN_E_JOURNEY_UNKNOWN_KEY'), { path: 'steps[1].nxt', line: 15 });

  const syntax = await client.call('POST', '/api/v1/journeys/validate', {
    body: { source: 'id: a\nsteps: [\n' },
  });
  t.equal(syntax.body.ok, false);
  t.match(syntax.body.problems[0], { code: 'CAIRN_E_JOURNEY_SYNTAX', line: 3 });

  const bad = await client.call('POST', '/api/v1/journeys/validate', { body: { text: GOOD } });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'CAIRN_E_ADMIN_BAD_REQUEST');
  t.match(bad.body.error.message, /at source/);
  const notJson = await client.call('POST', '/api/v1/journeys/validate', {
    headers: { 'content-type': 'application/json' },
    body: undefined,
  });
  t.equal(notJson.status, 400);
});

void t.test('publish, list, show, a version with source and graph, archive', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);

  // Publishing a broken draft: 400, the journey's code, every problem with its line.
  let r = await client.call('POST', '/api/v1/journeys', { body: { source: BROKEN } });
  t.equal(r.status, 400);
  t.equal(r.body.error.code, 'CAIRN_E_JOURNEY_INVALID');
  t.ok(r.body.error.problems.every((p: { line?: number }) => typeof p.line === 'number'));

  // A destination that does not exist: the CLI's refusal, at the line of `to`.
  r = await client.call('POST', '/api/v1/journeys', { body: { source: GOOD } });
  t.equal(r.status, 400);
  t.equal(r.body.error.code, 'CAIRN_E_JOURNEY_MISSING_DESTINATION');
  t.match(r.body.error.problems[0], { path: 'steps[1].to[0]', line: 15, column: 10 });
  t.match(r.body.error.hint, /allowMissingDestinations/);

  await putDestination(bus, { v: 1, id: 'crm', type: 'webhook', url: 'https://crm.example/hook' });
  r = await client.call('POST', '/api/v1/journeys', { body: { source: GOOD } });
  t.equal(r.status, 201);
  t.match(r.body, { id: 'welcome', version: 1, unchanged: false });
  r = await client.call('POST', '/api/v1/journeys', { body: { source: GOOD } });
  t.equal(r.status, 200, 'the same content again');
  t.match(r.body, { id: 'welcome', version: 1, unchanged: true });
  r = await client.call('POST', '/api/v1/journeys', {
    body: { source: GOOD.replace('name: Welcome', 'name: Welcome again'), previous: 'drain' },
  });
  t.equal(r.status, 201);
  t.match(r.body, { version: 2, previous: { version: 1, status: 'draining' } });

  r = await client.call('GET', '/api/v1/journeys', { token: READ_TOKEN });
  t.same(r.body.journeys, [
    {
      id: 'welcome',
      name: 'Welcome again',
      status: 'active',
      active: 2,
      latest: 2,
      versions: { '1': 'draining', '2': 'active' },
      // Nothing entered yet: the active version's day is all zeros.
      enteredToday: 0,
      current: 0,
      deliveries: 0,
      failures: 0,
    },
  ]);

  r = await client.call('GET', '/api/v1/journeys/welcome', { token: READ_TOKEN });
  t.equal(r.status, 200);
  t.match(r.body, { id: 'welcome', status: 'active', active: 2, latest: 2 });
  t.same(
    r.body.versions.map((v: { version: number; status: string }) => [v.version, v.status]),
    [
      [2, 'active'],
      [1, 'draining'],
    ],
  );
  t.match(r.body.versions[1], { publishedAt: /^\d{4}-\d\d-\d\dT/, hash: /\w+/ });

  r = await client.call('GET', '/api/v1/journeys/welcome/versions/1', { token: READ_TOKEN });
  t.equal(r.status, 200);
  t.equal(r.body.source, GOOD, 'the source as written');
  t.equal(r.body.document.id, 'welcome');
  // journeyGraph (libs/journey/graph.ts), as the console draws it: the trigger, the steps, the
  // end, and each edge with the branch its stats are counted under.
  t.same(r.body.graph, journeyGraph(r.body.document as JourneyDocument));
  t.same(
    r.body.graph.nodes.map((n: { id: string; kind: string }) => [n.id, n.kind]),
    [
      ['@trigger', 'trigger'],
      ['branch', 'random_split'],
      ['hello', 'send'],
      ['@end', 'end'],
    ],
  );
  t.same(
    r.body.graph.edges
      .filter((e: { from: string }) => e.from === 'branch')
      .map((e: { to: string; branch?: string }) => [e.to, e.branch]),
    [
      ['hello', 'a'],
      ['hello', 'b'],
    ],
  );
  r = await client.call('GET', '/api/v1/journeys/welcome/versions/9');
  t.equal(r.status, 404);
  t.equal(r.body.error.code, 'CAIRN_E_JOURNEY_VERSION_NOT_FOUND');
  t.match(r.body.error.hint, /Its versions: 1, 2/);
  r = await client.call('GET', '/api/v1/journeys/welcome/versions/zero');
  t.equal(r.status, 400);
  t.equal(r.body.error.code, 'CAIRN_E_ADMIN_BAD_REQUEST');

  r = await client.call('POST', '/api/v1/journeys/welcome/archive');
  t.equal(r.status, 200);
  t.same(r.body, { id: 'welcome', version: 2, ended: 0 });
  r = await client.call('POST', '/api/v1/journeys/welcome/archive');
  t.equal(r.status, 409);
  t.equal(r.body.error.code, 'CAIRN_E_JOURNEY_NOT_ACTIVE');
  t.equal(r.body.error.hint, 'Publish a version first, or leave it archived');
  r = await client.call('GET', '/api/v1/journeys', { token: READ_TOKEN });
  t.match(r.body.journeys[0], { id: 'welcome', status: 'archived', active: null });
});

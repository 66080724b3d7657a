// `cairn journey validate|publish|list|show|archive`, in-process against a real nats-server.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';

import { runCli } from '../../../services/cli/cli.js';
import { withNats } from '../../helpers/nats-server.js';
import { captureIo, REPO } from './helpers.js';

const CART = 'examples/journeys/cart-abandonment.yaml';

void t.test('validate: a valid example exits 0 and says ok', async (t) => {
  const io = captureIo();
  t.equal(await runCli(['journey', 'validate', CART], io), 0);
  t.match(io.stdout.join('\n'), /cart-abandonment\.yaml: ok \(cart-abandonment\)/);
});

void t.test('validate: every issue on its own line with position, path and hint; exit 1', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'bad.yaml');
  await writeFile(file, 'id: bad\ntrigger: { event: 3 }\nsteps:\n  - { id: a, type: sned }\n');
  const io = captureIo();
  t.equal(await runCli(['journey', 'validate', file], io), 1);
  t.match(
    io.stdout.join('\n'),
    /bad\.yaml:2:19: error CAIRN_E_JOURNEY_WRONG_TYPE at trigger\.event: .*\(hint: /,
  );
  t.match(
    io.stdout.join('\n'),
    /bad\.yaml:4:20: error CAIRN_E_JOURNEY_UNKNOWN_STEP_TYPE at steps\[0\]\.type: .*did you mean 'send'/,
  );
  t.match(io.stderr.at(-1), /^cairn: .*bad\.yaml has 4 error\(s\)\. Fix them/);
});

void t.test('validate: a missing file is one clear line', async (t) => {
  const io = captureIo();
  t.equal(await runCli(['journey', 'validate', 'nope.yaml'], io), 1);
  t.same(io.stderr, ['cairn: nope.yaml does not exist. Check the path and try again']);
});

void t.test('publish, list, show, archive round trip', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };

  let io = captureIo(env);
  t.equal(await runCli(['journey', 'list'], io), 0);
  t.match(io.stdout[0], /no journeys yet/);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'publish', CART, '--allow-missing-destinations'], io), 0, io.text());
  t.equal(io.stdout.at(-1), 'published cart-abandonment v1');

  // A second version: the same journey, changed (the same content would make none).
  const v2 = join(t.testdir(), 'cart-v2.yaml');
  await writeFile(
    v2,
    (await readFile(join(REPO, CART), 'utf8')).replace(/^name: .*$/m, 'name: Cart abandonment v2'),
  );
  io = captureIo(env);
  t.equal(
    await runCli(['journey', 'publish', v2, '--previous', 'archive', '--allow-missing-destinations'], io),
    0,
    io.text(),
  );
  t.same(io.stdout.slice(-2), [
    'published cart-abandonment v2',
    'archived v1: ending its 0 running instance(s)',
  ]);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'list'], io), 0);
  t.same(io.stdout, ['cart-abandonment  active v2  (v1 archived, v2 active)']);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'show', 'cart-abandonment'], io), 0);
  t.match(io.stdout[0], /^# cart-abandonment v2 \(active\), published /);
  t.match(io.stdout.join('\n'), /id: cart-abandonment\n/);
  t.match(io.stdout.join('\n'), /type: hold_until/);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'show', 'cart-abandonment', '--version', '1'], io), 0);
  t.match(io.stdout[0], /^# cart-abandonment v1 \(archived\)/);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'show', 'cart-abandonment', '--version', '9'], io), 1);
  t.match(io.stderr[0], /^cairn: journey cart-abandonment has no version 9\. /);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'archive', 'cart-abandonment'], io), 0, io.text());
  t.same(io.stdout, ['archived cart-abandonment v2: ending its 0 running instance(s)']);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'archive', 'cart-abandonment'], io), 1);
  t.match(io.stderr[0], /^cairn: journey cart-abandonment has no active version\. /);

  io = captureIo(env);
  t.equal(await runCli(['journey', 'show', 'nope'], io), 1);
  t.match(io.stderr[0], /^cairn: journey nope does not exist\. List the journeys/);
});

void t.test('publish validates first: an invalid file is not published', async (t) => {
  const nats = await withNats(t);
  const dir = t.testdir({ 'bad.yaml': 'id: bad\nsteps: []\n' });
  const io = captureIo({ NATS_URL: nats.url });
  t.equal(await runCli(['journey', 'publish', join(dir, 'bad.yaml')], io), 1);
  const list = captureIo({ NATS_URL: nats.url });
  await runCli(['journey', 'list'], list);
  t.match(list.stdout[0], /no journeys yet/);
});

void t.test('bad usage and an unreachable NATS are one line each', async (t) => {
  let io = captureIo();
  t.equal(await runCli(['journey', 'publish', CART, '--previous', 'keep'], io), 1);
  t.match(io.stderr[0], /^cairn: --previous must be drain or archive/);

  io = captureIo();
  t.equal(await runCli(['journey', 'show'], io), 1);
  t.match(io.stderr[0], /^cairn: missing <id>\. Usage: cairn journey show/);

  io = captureIo();
  t.equal(await runCli(['journey', 'list', '--bogus'], io), 1);
  t.match(io.stderr[0], /^cairn: .*bogus.*See `cairn journey --help`/);

  io = captureIo({ NATS_URL: 'nats://127.0.0.1:1' });
  t.equal(await runCli(['journey', 'list'], io), 1);
  t.match(io.stderr[0], /^cairn: cannot reach NATS at nats:\/\/127\.0\.0\.1:1\. Start Cairn with `cairn up`/);

  io = captureIo();
  t.equal(await runCli(['journey', '--help'], io), 0);
  t.match(io.stdout[0], /^Usage: cairn journey <command>/);
});

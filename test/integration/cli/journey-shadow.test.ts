// `cairn journey publish --shadow`, `promote`, `archive --shadow`, in-process against a real
// nats-server: what each prints, what the head becomes, and each misuse as one line.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';

import { runCli } from '../../../services/cli/cli.js';
import { withNats } from '../../helpers/nats-server.js';
import { captureIo, REPO } from './helpers.js';

const CART = 'examples/journeys/cart-abandonment.yaml';
const ALLOW = '--allow-missing-destinations';

void t.test('publish --shadow, list, promote, archive --shadow', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  const run = async (...argv: string[]) => {
    const io = captureIo(env);
    const code = await runCli(argv, io);
    return { code, io };
  };

  // A shadow runs beside an active version: none yet.
  let r = await run('journey', 'publish', CART, '--shadow', ALLOW);
  t.equal(r.code, 1);
  t.match(r.io.stderr.at(-1), /^cairn: journey cart-abandonment does not exist\. Publish it first/);

  t.equal((await run('journey', 'publish', CART, ALLOW)).code, 0);
  r = await run('journey', 'publish', CART, '--shadow', ALLOW);
  t.equal(r.code, 0, r.io.text());
  t.equal(
    r.io.stdout.at(-1),
    'published cart-abandonment v2 as the shadow: decided beside the active version on every event, sending nothing',
  );
  const v3 = join(t.testdir(), 'cart-v3.yaml');
  await writeFile(v3, (await readFile(join(REPO, CART), 'utf8')).replace(/^name: .*$/m, 'name: Cart v3'));
  r = await run('journey', 'publish', v3, '--shadow', ALLOW);
  t.same(r.io.stdout.slice(-2), [
    'published cart-abandonment v3 as the shadow: decided beside the active version on every event, sending nothing',
    'archived v2, the shadow until now: its instances end',
  ]);
  r = await run('journey', 'list');
  t.same(r.io.stdout, ['cart-abandonment  active v1  shadow v3  (v1 active, v2 archived, v3 shadow)']);
  r = await run('journey', 'show', 'cart-abandonment', '--version', '3');
  t.match(r.io.stdout[0], /^# cart-abandonment v3 \(shadow\), published /);

  r = await run('journey', 'promote', 'cart-abandonment');
  t.equal(r.code, 0, r.io.text());
  t.same(r.io.stdout, [
    'promoted cart-abandonment v3: active now, its sends are delivered',
    'v1 drains: its running instances finish on it',
    "the shadow's own instances end (shadow_ended) when their pending timers fire",
  ]);
  r = await run('journey', 'list');
  t.same(r.io.stdout, ['cart-abandonment  active v3  (v1 draining, v2 archived, v3 active)']);

  r = await run('journey', 'promote', 'cart-abandonment');
  t.equal(r.code, 1);
  t.same(r.io.stderr, [
    'cairn: journey cart-abandonment has no shadow version. Publish one with `cairn journey publish <file> --shadow`; `cairn journey list` shows each version',
  ]);
  r = await run('journey', 'archive', 'cart-abandonment', '--shadow');
  t.equal(r.code, 1);
  t.match(r.io.stderr[0], /^cairn: journey cart-abandonment has no shadow version\. /);

  t.equal((await run('journey', 'publish', CART, '--shadow', ALLOW)).code, 0);
  r = await run('journey', 'archive', 'cart-abandonment', '--shadow');
  t.equal(r.code, 0, r.io.text());
  t.same(r.io.stdout, [
    'archived the shadow cart-abandonment v4: its instances end when their pending timers fire',
  ]);
  r = await run('journey', 'list');
  t.same(r.io.stdout, ['cart-abandonment  active v3  (v1 draining, v2 archived, v3 active, v4 archived)']);

  r = await run('journey', 'promote', 'nope');
  t.equal(r.code, 1);
  t.match(r.io.stderr[0], /^cairn: journey nope does not exist\. /);
});

void t.test('--shadow with --previous, and the help texts', async (t) => {
  let io = captureIo();
  t.equal(await runCli(['journey', 'publish', CART, '--shadow', '--previous', 'archive'], io), 1);
  t.same(io.stderr, [
    'cairn: --shadow and --previous do not go together: a shadow leaves the active version as it is. Drop --previous (or --shadow)',
  ]);
  io = captureIo();
  t.equal(await runCli(['journey', 'promote'], io), 1);
  t.match(io.stderr[0], /^cairn: missing <id>\. Usage: cairn journey promote <id>/);
  io = captureIo();
  t.equal(await runCli(['journey', 'promote', '--help'], io), 0);
  t.match(io.stdout[0], /^Usage: cairn journey promote <id>/);
  io = captureIo();
  t.equal(await runCli(['journey', '--help'], io), 0);
  t.match(io.stdout.join('\n'), /publish <file> --shadow/);
  t.match(io.stdout.join('\n'), /promote <id> /);
});

// `cairn audience add|remove|list` against a running ingest: the change goes through EVENTS as
// `Audience Entered` / `Audience Exited`, and lands on the profile.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';

import { runCli } from '../../../services/cli/cli.js';
import { captureIo } from '../cli/helpers.js';
import { waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

void t.test('add, list, remove; list marks computed audiences; bad input is a one-line error', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'audiences.yaml');
  await writeFile(file, 'audiences:\n  - { id: pro, where: { traits.plan: pro } }\n');
  const h = await withIngest(t, { CAIRN_AUDIENCES_FILE: file });
  const env = { NATS_URL: h.server.url, CAIRN_AUDIENCES_FILE: file, CAIRN_PARTITIONS: '4' };

  let io = captureIo(env);
  t.equal(await runCli(['audience', 'add', 'vip', 'u1', 'u2'], io), 0, io.text());
  t.same(io.stdout, ['u1: added to vip', 'u2: added to vip']);
  await h.publish('events.identify', { userId: 'u1', traits: { plan: 'pro' } });

  io = captureIo(env);
  t.equal(await runCli(['audience', 'remove', 'vip', 'u2'], io), 0, io.text());
  t.same(io.stdout, ['u2: removed from vip']);
  await waitUntil(() => h.routed.length === 4, 10_000, 'every event applied');

  io = captureIo(env);
  t.equal(await runCli(['audience', 'list', '--user', 'u1'], io), 0, io.text());
  t.same(io.stdout, ['vip', 'pro']);

  io = captureIo(env);
  t.equal(await runCli(['audience', 'list'], io), 0, io.text());
  t.same(io.stdout, ['pro  1 member  (computed)', 'vip  1 member']);

  io = captureIo(env);
  t.equal(await runCli(['audience', 'add', 'not an id', 'u1'], io), 1);
  t.match(io.stderr[0], /audience id "not an id" is not valid/);
  io = captureIo(env);
  t.equal(await runCli(['audience', 'list', '--user', 'nobody'], io), 1);
  t.match(io.stderr[0], /no profile for nobody/);
  io = captureIo(env);
  t.equal(await runCli(['audience', 'add', 'vip'], io), 1);
  t.match(io.stderr[0], /missing <userId>/);
  io = captureIo(env);
  t.equal(await runCli(['audience', '--help'], io), 0);
  t.match(io.stdout[0], /Usage: cairn audience/);
});

void t.test('with no ingest running, add is queued and applied when ingest runs', async (t) => {
  const h = await withIngest(t);
  await h.ingest.stop(1_000);
  const io = captureIo({ NATS_URL: h.server.url, CAIRN_PARTITIONS: '4' });
  t.equal(await runCli(['audience', 'add', 'vip', 'u9', '--wait', '0.3'], io), 0, io.text());
  t.same(io.stdout, ['u9: queued (Audience Entered); ingest applies it when it runs']);
});

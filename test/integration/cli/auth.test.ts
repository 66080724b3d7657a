// `cairn auth init <dir>`: seeds (0600) kept across runs unless --force, keys.conf with their
// public keys, and the shipped auth.conf.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';

import { renderAuthConf, ROLES } from '../../../libs/bus/index.js';
import { runCli } from '../../../services/cli/cli.js';
import { captureIo } from './helpers.js';

void t.test('auth init writes seeds, keys.conf and auth.conf; keeps seeds unless --force', async (t) => {
  const dir = join(t.testdir(), 'nats');
  let io = captureIo();
  t.equal(await runCli(['auth', 'init', dir], io), 0, io.text());
  const seeds: Record<string, string> = {};
  for (const role of ROLES) {
    const file = join(dir, `${role}.nk`);
    seeds[role] = (await readFile(file, 'utf8')).trim();
    t.match(seeds[role], /^SU[A-Z2-7]{56}$/, `${role}: a user seed`);
    t.equal((await stat(file)).mode & 0o777, 0o600, `${role}: readable by its owner only`);
  }
  const keys = await readFile(join(dir, 'keys.conf'), 'utf8');
  for (const role of ROLES) t.match(keys, new RegExp(`CAIRN_NKEY_${role.toUpperCase()}: "U[A-Z2-7]{55}"`));
  t.notMatch(keys, /SU[A-Z2-7]{56}/, 'no seed in keys.conf');
  t.equal(await readFile(join(dir, 'auth.conf'), 'utf8'), renderAuthConf());
  t.match(io.stdout.at(-1), /nats-server -js -c .*auth\.conf/);

  io = captureIo();
  t.equal(await runCli(['auth', 'init', dir], io), 0);
  t.equal((await readFile(join(dir, 'ingest.nk'), 'utf8')).trim(), seeds['ingest'], 'kept');
  t.match(io.text(), /ingest\.nk kept/);

  io = captureIo();
  t.equal(await runCli(['auth', 'init', dir, '--force'], io), 0);
  t.not((await readFile(join(dir, 'ingest.nk'), 'utf8')).trim(), seeds['ingest'], 'replaced');
  t.equal((await readFile(join(dir, 'keys.conf'), 'utf8')) === keys, false, 'new public keys');
});

// `cairn auth init <dir>`: the credentials of a locked-down NATS. Writes one nkey seed per user
// (`<role>.nk`, mode 0600: the secret a process reads through NATS_NKEY), keys.conf (their public
// keys) and auth.conf (the allow-lists of libs/bus permissions.ts, the same file as
// deploy/nats/auth.conf). Existing seeds are kept, so that running it again never locks a
// deployed service out; --force makes new ones.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { nkeys } from '@nats-io/transport-node';

import { renderAuthConf, renderKeysConf, ROLES, type Role } from '../../libs/bus/index.js';
import { parse, positional } from './args.js';
import { CliError, type CliIo, type ExitCode } from './io.js';

export const AUTH_HELP = `Usage: cairn auth init <dir> [--force]

Writes the credentials of a NATS server locked down for Cairn (docs/security.md):
  <dir>/<user>.nk    the nkey seed of each user (mode 0600): ${ROLES.join(', ')}
  <dir>/keys.conf    their public keys
  <dir>/auth.conf    the server's authorization: what each user may publish and subscribe

Run the server with \`nats-server -js -c <dir>/auth.conf\` (or include auth.conf in yours) and
give each process its seed: NATS_NKEY=<dir>/ingest.nk for ingest, and so on; the cairn CLI uses
admin.nk, \`cairn up\` up.nk, event producers producer.nk. Seeds that exist are kept.

Options:
  --force      make new seeds for every user (the old ones stop working)
  -h, --help   this help`;

export async function authCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(
    argv,
    { help: { type: 'boolean', short: 'h' }, force: { type: 'boolean' } },
    'cairn auth',
  );
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    io.out(AUTH_HELP);
    return values.help ? 0 : 1;
  }
  if (command !== 'init')
    throw new CliError(`unknown command \`auth ${command}\``, 'See `cairn auth --help`');
  const dir = resolve(io.cwd, positional(rest, 0, 'dir', 'cairn auth init <dir>'));
  const written = await writeCredentials(dir, values.force === true);
  io.out(`wrote ${join(dir, 'auth.conf')} and ${join(dir, 'keys.conf')}`);
  for (const role of ROLES)
    io.out(
      `  ${role}.nk ${written.created.includes(role) ? 'created' : 'kept'} (${written.publicKeys[role]})`,
    );
  io.out(`start the server with: nats-server -js -c ${join(dir, 'auth.conf')}`);
  return 0;
}

export interface WrittenCredentials {
  publicKeys: Record<Role, string>;
  created: Role[];
}

/** Seeds (kept when present unless `force`), keys.conf and auth.conf in `dir`. */
export async function writeCredentials(dir: string, force = false): Promise<WrittenCredentials> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const publicKeys = {} as Record<Role, string>;
  const created: Role[] = [];
  for (const role of ROLES) {
    const file = join(dir, `${role}.nk`);
    let seed = force ? undefined : await readSeed(file);
    if (seed === undefined) {
      seed = new TextDecoder().decode(nkeys.createUser().getSeed());
      await writeFile(file, `${seed}\n`, { mode: 0o600 });
      // An existing file keeps its mode on write: make sure.
      await chmod(file, 0o600);
      created.push(role);
    }
    publicKeys[role] = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  }
  await writeFile(join(dir, 'keys.conf'), renderKeysConf(publicKeys));
  await writeFile(join(dir, 'auth.conf'), renderAuthConf());
  return { publicKeys, created };
}

async function readSeed(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const seed = text.trim();
  if (!/^SU[A-Z2-7]{56}$/.test(seed)) {
    throw new CliError(`${file} does not hold an nkey user seed`, 'Remove it, or run with --force');
  }
  return seed;
}

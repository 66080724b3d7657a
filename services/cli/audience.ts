// `cairn audience add|remove|list`: fed audiences by hand. add/remove publish the same
// `Audience Entered` / `Audience Exited` track events a Segment Engage source sends, so the
// change is in the replay log, can trigger journeys, and goes through ingest like any event.
import { randomUUID } from 'node:crypto';

import { BUCKETS, encodeKey, profileCodec, type Bus } from '../../libs/bus/index.js';
import { AUDIENCE_ENTERED, AUDIENCE_EXITED, AUDIENCE_ID } from '../../libs/events/index.js';
import { loadAudiences, resolveUserKey } from '../ingest/index.js';
import { parse, positional } from './args.js';
import { withBus } from './connect.js';
import { CliError, type CliIo, type ExitCode } from './io.js';

export const AUDIENCE_HELP = `Usage: cairn audience <command> [options]

Commands:
  add <audience> <userId>...      put users in a fed audience (publishes "Audience Entered")
  remove <audience> <userId>...   take users out (publishes "Audience Exited")
  list                            every audience with its member count (computed ones marked)
  list --user <userId>            one user's audiences

Options:
  --wait <seconds>   how long add/remove wait for ingest to apply the change (default 5; 0: do not wait)
  --user <userId>    with list: that user's audiences
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help         this help

Computed audiences come from CAIRN_AUDIENCES_FILE and follow traits; add/remove are for fed ones.`;

/** Each command's own help (`cairn <group> <command> --help`), with an example. */
export const AUDIENCE_COMMAND_HELP: Record<string, string> = {
  add: `Usage: cairn audience add <audience> <userId>... [--wait <seconds>]

Puts users in a fed audience: publishes "Audience Entered" for each, and waits (default 5 s)
for ingest to apply it.

Example:
  cairn audience add vip u1 u2

Options:
  --wait <seconds>   how long to wait for ingest (0: do not wait)
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  remove: `Usage: cairn audience remove <audience> <userId>... [--wait <seconds>]

Takes users out of a fed audience: publishes "Audience Exited" for each.

Example:
  cairn audience remove vip u2

Options:
  --wait <seconds>   how long to wait for ingest (0: do not wait)
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  list: `Usage: cairn audience list [--user <userId>]

Every audience with its member count (computed ones marked), or one user's audiences.

Example:
  cairn audience list --user u1

Options:
  --user <userId>    that user's audiences
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
};

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'nats-url': { type: 'string' },
  wait: { type: 'string' },
  user: { type: 'string' },
} as const;

async function audiencesOf(bus: Bus, userId: string): Promise<string[] | undefined> {
  const kv = await bus.kv(BUCKETS.profiles);
  const key = await resolveUserKey(kv, userId);
  const entry = await kv.get(encodeKey(key));
  return entry?.operation === 'PUT' ? profileCodec.decode(entry.value).audiences : undefined;
}

async function change(
  bus: Bus,
  io: CliIo,
  entered: boolean,
  audience: string,
  users: string[],
  waitMs: number,
): Promise<ExitCode> {
  if (!AUDIENCE_ID.test(audience)) {
    throw new CliError(`audience id ${JSON.stringify(audience)} is not valid`, 'Use 1-128 of [A-Za-z0-9_.-]');
  }
  const event = entered ? AUDIENCE_ENTERED : AUDIENCE_EXITED;
  for (const userId of users) {
    const body = {
      type: 'track',
      userId,
      event,
      messageId: `cli-${randomUUID()}`,
      properties: { audience_key: audience, source: 'cairn-cli' },
    };
    await bus.js.publish('events.track', JSON.stringify(body));
  }
  const deadline = Date.now() + waitMs;
  const pending = new Set(users);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const userId of [...pending]) {
      const audiences = (await audiencesOf(bus, userId)) ?? [];
      if (audiences.includes(audience) === entered) pending.delete(userId);
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
  const verb = entered ? 'added to' : 'removed from';
  for (const userId of users) {
    io.out(
      pending.has(userId)
        ? `${userId}: queued (${event}); ingest applies it when it runs`
        : `${userId}: ${verb} ${audience}`,
    );
  }
  return 0;
}

async function list(bus: Bus, io: CliIo, computed: Set<string>, user: string | undefined): Promise<ExitCode> {
  if (user !== undefined) {
    const audiences = await audiencesOf(bus, user);
    if (audiences === undefined) throw new CliError(`no profile for ${user}`, 'Check the user id');
    if (audiences.length === 0) io.out(`${user}: no audiences`);
    for (const a of audiences) io.out(a);
    return 0;
  }
  const kv = await bus.kv(BUCKETS.profiles);
  const counts = new Map<string, number>([...computed].map((id) => [id, 0]));
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry?.operation !== 'PUT') continue;
    const profile = profileCodec.decode(entry.value);
    if (profile.aliasOf !== undefined) continue;
    for (const a of profile.audiences) counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  if (counts.size === 0) io.out('no audiences');
  for (const [id, n] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    io.out(`${id}  ${n} member${n === 1 ? '' : 's'}${computed.has(id) ? '  (computed)' : ''}`);
  }
  return 0;
}

export async function audienceCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS, 'cairn audience');
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out((command !== undefined && AUDIENCE_COMMAND_HELP[command]) || AUDIENCE_HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  const waitSeconds = Number(values.wait ?? '5');
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
    throw new CliError(`--wait ${values.wait} is not a number of seconds`, 'Use e.g. --wait 5');
  }
  return withBus(io, values['nats-url'], async (bus, config) => {
    switch (command) {
      case 'add':
      case 'remove': {
        const usage = `cairn audience ${command} <audience> <userId>...`;
        const audience = positional(rest, 0, 'audience', usage);
        positional(rest, 1, 'userId', usage);
        return change(bus, io, command === 'add', audience, rest.slice(1), waitSeconds * 1000);
      }
      case 'list': {
        const computed = new Set((await loadAudiences(config.audiencesFile)).map((a) => a.id));
        return list(bus, io, computed, values.user);
      }
      default:
        throw new CliError(`unknown audience command \`${command}\``, 'Run `cairn audience --help`');
    }
  });
}

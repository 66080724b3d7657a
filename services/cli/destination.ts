// `cairn destination put|list|show`: secrets never leave in output.
import { stringify as toYaml } from 'yaml';

import {
  DestinationError,
  getDestination,
  listDestinations,
  parseDestinationFile,
  putDestination,
  type Destination,
} from '../../libs/bus/index.js';
import { COMMON_OPTIONS, parse, positional } from './args.js';
import { withBus } from './connect.js';
import { readDocument } from './files.js';
import { CliError, type CliIo, type ExitCode } from './io.js';

export const DESTINATION_HELP = `Usage: cairn destination <command> [options]

Commands:
  put <file>...   validate and store destinations (YAML or JSON; last write wins)
  list            every destination (secrets masked)
  show <id>       one destination as YAML (secrets masked)

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help         this help`;

/** A copy safe to print: the secret and header values are masked. */
export function maskDestination(dest: Destination): Record<string, unknown> {
  const out: Record<string, unknown> = { ...dest };
  if (dest.type === 'webhook') {
    if (dest.secret !== undefined) out['secret'] = maskSecret(dest.secret);
    if (dest.headers !== undefined) {
      out['headers'] = Object.fromEntries(Object.keys(dest.headers).map((k) => [k, '****']));
    }
  }
  return out;
}

function maskSecret(secret: string): string {
  return `whsec_****${secret.slice(-4)}`;
}

function summary(dest: Destination): string {
  if (dest.type === 'nats') return `${dest.id}  nats  ${dest.subject}`;
  return `${dest.id}  webhook  ${dest.url}${dest.secret ? '  (signed)' : ''}`;
}

export async function destinationCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, COMMON_OPTIONS, 'cairn destination');
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(DESTINATION_HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  const url = values['nats-url'];
  switch (command) {
    case 'put': {
      positional(rest, 0, 'file', 'cairn destination put <file>...');
      const parsed: Destination[] = [];
      for (const file of rest) {
        try {
          parsed.push(parseDestinationFile(await readDocument(io, file)));
        } catch (err) {
          if (!(err instanceof DestinationError)) throw err;
          for (const issue of err.issues)
            io.out(`${file}: error ${err.code} at ${issue.path}: ${issue.message}`);
          throw new CliError(`${file} is not a valid destination`, 'Fix the fields above (see docs/cli.md)');
        }
      }
      await withBus(io, url, async (bus) => {
        for (const dest of parsed) {
          await putDestination(bus, dest);
          io.out(`put destination ${summary(dest)}`);
        }
      });
      return 0;
    }
    case 'list': {
      const all = await withBus(io, url, (bus) => listDestinations(bus));
      if (all.length === 0) io.out('no destinations yet: add one with `cairn destination put <file>`');
      for (const dest of all) io.out(summary(dest));
      return 0;
    }
    case 'show': {
      const id = positional(rest, 0, 'id', 'cairn destination show <id>');
      const dest = await withBus(io, url, (bus) => getDestination(bus, id));
      if (!dest)
        throw new CliError(`destination ${id} does not exist`, 'List them with `cairn destination list`');
      io.out(toYaml(maskDestination(dest)).trimEnd());
      return 0;
    }
    default:
      throw new CliError(`unknown command \`destination ${command}\``, 'See `cairn destination --help`');
  }
}

// `cairn <command>`: dispatch, help, and the one-line error contract (`cairn: <what>. <fix>`).
import { audienceCommand } from './audience.js';
import { authCommand } from './auth.js';
import { destinationCommand } from './destination.js';
import { dlqCommand } from './dlq.js';
import { inspectCommand } from './inspect.js';
import { CliError, type CliIo, type ExitCode } from './io.js';
import { journeyCommand } from './journey.js';
import { replayCommand } from './replay.js';
import { simulateCommand } from './simulate.js';

export const HELP = `Usage: cairn <command> [options]

Commands:
  up                       run every service in one process, for development (starts a local
                           nats-server if needed; webhooks may reach localhost)
  journey <command>        validate | publish | list | show | archive | promote | preview | stats journeys
  destination <command>    put | list | show | test destinations
  dlq <command>            list | show | retry | drop dead letters (failed deliveries)
  audience <command>       add | remove | list fed audiences and members
  simulate <file>...       run journeys over events on a virtual clock, offline
  replay <file|id>         run a journey over the events of a past window (a dry run: no sends)
  inspect user <userId>    a user's instances, pending timers and recent journal
  auth init <dir>          NATS credentials and authorization for a locked-down server

Run \`cairn <command> --help\` for a command's options. docs/cli.md has the details.`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<ExitCode>> = {
  // Loaded on demand: the services (and their dependencies) only when running them.
  up: async (argv, io) => (await import('./up.js')).upCommand(argv, io),
  journey: journeyCommand,
  destination: destinationCommand,
  dlq: dlqCommand,
  audience: audienceCommand,
  simulate: simulateCommand,
  replay: replayCommand,
  inspect: inspectCommand,
  auth: authCommand,
};

export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new CliError(`unknown command \`${name}\``, 'Run `cairn --help` for the list');
    return await command(rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(err.message);
      return err.exitCode;
    }
    const code = (err as { code?: unknown }).code;
    if (code === 'CAIRN_E_BUS_VALUE_INVALID' || code === 'CAIRN_E_DESTINATION_INVALID') {
      // A stored value that does not decode: the message names the bucket and key.
      io.err(
        `cairn: ${(err as Error).message}. Write that key again (\`cairn journey publish\`, \`cairn destination put\`) or delete it`,
      );
      return 1;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(
      `cairn: ${name} failed: ${message}. Run again with CAIRN_LOG_LEVEL=debug, or report it with this line`,
    );
    return 1;
  }
}

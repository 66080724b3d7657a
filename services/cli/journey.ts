// `cairn journey validate|publish|list|show|archive`.
import { stringify as toYaml } from 'yaml';

import {
  archiveJourney,
  endArchivedInstances,
  JOURNEY_NOT_ACTIVE,
  JOURNEY_NOT_FOUND,
  JourneyRegistryError,
  listJourneys,
  publishJourneyVersion,
  readJourneyHead,
  readJourneyVersion,
  type JourneyHead,
} from '../../libs/bus/index.js';
import { parseJourney, type JourneyDocument } from '../../libs/journey/index.js';
import { COMMON_OPTIONS, parse, positional } from './args.js';
import { withBus } from './connect.js';
import { readText } from './files.js';
import { CliError, type CliIo, type ExitCode } from './io.js';
import { formatIssue } from './issues.js';

export const JOURNEY_HELP = `Usage: cairn journey <command> [options]

Commands:
  validate <file>                          check a journey offline: every issue, one per line
  publish <file> [--previous drain|archive] validate, then store a new version
  list                                     every journey, its head version and status
  show <id> [--version <n>]                a journey's head (or version n) as YAML
  archive <id>                             stop new entries; running instances exit

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help         this help`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  previous: { type: 'string' },
  version: { type: 'string' },
} as const;

export async function journeyCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS, 'cairn journey');
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(JOURNEY_HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  const url = values['nats-url'];
  switch (command) {
    case 'validate':
      return (await validateFile(io, positional(rest, 0, 'file', 'cairn journey validate <file>'))).code;
    case 'publish': {
      const file = positional(rest, 0, 'file', 'cairn journey publish <file>');
      const previous = values.previous;
      if (previous !== undefined && previous !== 'drain' && previous !== 'archive') {
        throw new CliError(
          `--previous must be drain or archive, not ${JSON.stringify(previous)}`,
          'Use --previous drain (default) or --previous archive',
        );
      }
      const checked = await validateFile(io, file);
      if (!checked.journey) return checked.code;
      const doc = checked.journey;
      const { published, ended } = await withBus(io, url, async (bus, config) => {
        const published = await publishJourneyVersion(bus, doc, previous === undefined ? {} : { previous });
        const ended =
          published.previous?.status === 'archived'
            ? await endArchivedInstances(bus, {
                journeyId: published.id,
                version: published.previous.version,
                partitions: config.partitions,
              })
            : undefined;
        return { published, ended };
      });
      io.out(`published ${published.id} v${published.version}`);
      if (published.previous && ended !== undefined)
        io.out(`archived v${published.previous.version}: ending its ${ended} running instance(s)`);
      else if (published.previous)
        io.out(`v${published.previous.version} drains: its running instances finish on it`);
      return 0;
    }
    case 'list': {
      const journeys = await withBus(io, url, (bus) => listJourneys(bus));
      if (journeys.length === 0) {
        io.out('no journeys yet: publish one with `cairn journey publish <file>`');
        return 0;
      }
      for (const j of journeys) io.out(describeHead(j));
      return 0;
    }
    case 'show': {
      const id = positional(rest, 0, 'id', 'cairn journey show <id> [--version <n>]');
      const wanted = values.version === undefined ? undefined : parseVersion(values.version);
      const shown = await withBus(io, url, async (bus) => {
        const head = await readJourneyHead(bus, id);
        if (!head) return undefined;
        const version = wanted ?? head.active ?? head.latest;
        return { head, version, stored: await readJourneyVersion(bus, id, version) };
      });
      if (!shown)
        throw new CliError(`journey ${id} does not exist`, 'List the journeys with `cairn journey list`');
      if (!shown.stored) {
        throw new CliError(
          `journey ${id} has no version ${shown.version}`,
          `Its versions: ${Object.keys(shown.head.versions).join(', ')}`,
        );
      }
      const status = shown.head.versions[String(shown.version)] ?? 'unknown';
      io.out(
        `# ${id} v${shown.version} (${status}), published ${new Date(shown.stored.publishedAt).toISOString()}, hash ${shown.stored.hash}`,
      );
      io.out(toYaml(shown.stored.document).trimEnd());
      return 0;
    }
    case 'archive': {
      const id = positional(rest, 0, 'id', 'cairn journey archive <id>');
      try {
        const { version, ended } = await withBus(io, url, async (bus, config) => {
          const { version } = await archiveJourney(bus, id);
          const ended = await endArchivedInstances(bus, {
            journeyId: id,
            version,
            partitions: config.partitions,
          });
          return { version, ended };
        });
        io.out(`archived ${id} v${version}: ending its ${ended} running instance(s)`);
      } catch (err) {
        if (err instanceof JourneyRegistryError && err.code === JOURNEY_NOT_FOUND) {
          throw new CliError(`journey ${id} does not exist`, 'List the journeys with `cairn journey list`');
        }
        if (err instanceof JourneyRegistryError && err.code === JOURNEY_NOT_ACTIVE) {
          throw new CliError(
            `journey ${id} has no active version`,
            'Publish a version first, or leave it archived',
          );
        }
        throw err;
      }
      return 0;
    }
    default:
      throw new CliError(`unknown command \`journey ${command}\``, 'See `cairn journey --help`');
  }
}

function parseVersion(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new CliError(
      `--version must be a whole number >= 1, not ${JSON.stringify(raw)}`,
      'Use e.g. --version 2',
    );
  }
  return Number(raw);
}

function describeHead(head: JourneyHead): string {
  const versions = Object.entries(head.versions)
    .map(([n, status]) => `v${n} ${status}`)
    .join(', ');
  const active = head.active === null ? 'archived' : `active v${head.active}`;
  return `${head.id}  ${active}  (${versions})`;
}

/** Prints every issue (errors and warnings); the journey when it is valid. */
export async function validateFile(
  io: CliIo,
  file: string,
): Promise<{ code: ExitCode; journey?: JourneyDocument }> {
  const result = parseJourney(await readText(io, file));
  const issues = result.ok ? result.warnings : [...result.errors, ...result.warnings];
  for (const issue of issues) io.out(formatIssue(file, issue));
  if (!result.ok) {
    io.err(
      `cairn: ${file} has ${result.errors.length} error(s). Fix them and run \`cairn journey validate ${file}\` again`,
    );
    return { code: 1 };
  }
  io.out(
    `${file}: ok (${result.journey.id}${result.warnings.length ? `, ${result.warnings.length} warning(s)` : ''})`,
  );
  return { code: 0, journey: result.journey };
}

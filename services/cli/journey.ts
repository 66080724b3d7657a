// `cairn journey validate|publish|list|show|archive|promote|preview|stats`.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { stringify as toYaml } from 'yaml';

import {
  archiveJourney,
  archiveShadow,
  endArchivedInstances,
  JOURNEY_NO_SHADOW,
  JOURNEY_NOT_ACTIVE,
  JOURNEY_NOT_FOUND,
  JourneyRegistryError,
  listJourneys,
  promoteShadow,
  publishJourneyVersion,
  publishShadowVersion,
  readJourneyHead,
  readJourneyVersion,
  listDestinations,
  type Bus,
  type JourneyHead,
  type JourneyPublishResult,
  type JourneyVersion,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import {
  closest,
  compile,
  makeEvent,
  parseJourney,
  previewSend,
  type CompiledJourney,
  type EventSpec,
  type JourneyDocument,
} from '../../libs/journey/index.js';
import { COMMON_OPTIONS, parse, positional } from './args.js';
import { withBus } from './connect.js';
import { readText } from './files.js';
import { CliError, CodedError, type CliIo, type ExitCode } from './io.js';
import { formatIssue } from './issues.js';
import { journeyStatsLines, parseSince, STATS_HELP } from './journey-stats.js';

export const JOURNEY_HELP = `Usage: cairn journey <command> [options]

Commands:
  validate <file>                          check a journey offline: every issue, one per line
  publish <file> [--previous drain|archive] validate, then store a new version
  publish <file> --shadow                  store it as a shadow: decided beside the active
                                           version on live events, sending nothing
  list                                     every journey, its head version and status
  show <id> [--version <n>] [--compiled]   a journey's head (or version n) as written
  archive <id> [--shadow]                  stop new entries; running instances exit
                                           (--shadow: drop the shadow version only)
  promote <id>                             make the shadow version the active one
  preview <file|id> --step <step> --event <json> [--profile <json>]
                                           the exact payload a send step would send
  stats <id> [--version <n>] [--since <d>] [--shadow] [--json]
                                           counts per step: entered, waiting, branches, sends

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help         this help`;

/** Each command's own help (`cairn <group> <command> --help`), with an example. */
export const JOURNEY_COMMAND_HELP: Record<string, string> = {
  validate: `Usage: cairn journey validate <file>

Checks a journey file offline (no NATS needed): prints every error and warning, one per line
as <file>:<line>:<col>: error <code> at <path>: <message> (hint: …), and exits 1 on errors.

Example:
  cairn journey validate examples/journeys/cart-abandonment.yaml`,
  publish: `Usage: cairn journey publish <file> [--previous drain|archive | --shadow] [--allow-missing-destinations]

Validates the file (nothing is stored on errors), then stores it as the journey's next version
and makes it active. A file with the same content as the active version (same hash) makes no
new version, and says so. Every destination a send names (\`to:\`) must exist
(\`cairn destination list\`).

What becomes of the version that was active:
  --previous drain     (default) new entries go to the new version; instances already running
                       finish on the old one (status draining in cairn journey list)
  --previous archive   the old version's running instances end now (each gets an archive
                       notice); use it when the old steps must not run any more

A shadow (--shadow): the file becomes the journey's shadow version instead. It runs beside
the active version on every live event, with its own instances, timers and journal records
(marked shadow), and never sends: each send is journaled as would_send with its payload.
The active version is not changed. A shadow published before is archived. Compare them with
\`cairn journey stats <id> --shadow\`, then \`cairn journey promote <id>\` or
\`cairn journey archive <id> --shadow\`.

Options:
  --shadow           publish as the journey's shadow version (needs an active version)
  --allow-missing-destinations   publish even when a destination does not exist yet: a
                                 warning; until it is put, its deliveries are retried, then
                                 dead-lettered (unknown_destination)
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)

Example:
  cairn journey publish examples/journeys/cart-abandonment.yaml
  cairn journey publish cart.yaml --previous archive
  cairn journey publish cart-v2.yaml --shadow`,
  list: `Usage: cairn journey list

Every stored journey: its id, the active version (or archived) and each version's status.

Example:
  cairn journey list

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  show: `Usage: cairn journey show <id> [--version <n>] [--compiled]

Prints the active (else the latest) version of a journey, or version n, as it was written:
the output passes \`cairn journey validate\` and can be published again. A comment line above
it names the version, its status, when it was published and its hash.

Options:
  --version <n>      that version
  --compiled         the compiled form the services run (durations in ms, defaults filled in)
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)

Example:
  cairn journey show cart-abandonment > cart.yaml`,
  archive: `Usage: cairn journey archive <id> [--shadow]

Stops new entries into the journey; its running instances exit (each gets an archive notice).
A shadow version is archived with it. Publish a version again to reactivate it.

With --shadow, only the shadow version is archived: the active version carries on untouched;
the shadow decides nothing more; each of its instances ends (shadow_ended) when its pending
timer fires, and sends nothing.

Example:
  cairn journey archive cart-abandonment
  cairn journey archive cart-abandonment --shadow

Options:
  --shadow           archive the shadow version only
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  promote: `Usage: cairn journey promote <id>

Makes the journey's shadow version the active one: new entries go to it, and its sends are
delivered. The version active until now drains: its running instances finish on it, and
deliver as before. The shadow's own instances are not carried over (their users have live
instances of the draining version already): each ends (shadow_ended) when its pending timer
fires, and sends nothing.

Example:
  cairn journey promote cart-abandonment

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  preview: `Usage: cairn journey preview <file|id> --step <step> --event <json> [--profile <json>]

Prints the exact payload a send step would send for an event (stdout, JSON), and its size
against the journey's limit (stderr). A file is previewed offline; an id reads the stored
journey.

Options:
  --step <step>       the send step
  --event <json>      the entry event, Segment-style
  --profile <json>    {"traits":{…},"audiences":[…]} of the user
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)

Example:
  cairn journey preview examples/journeys/cart-abandonment.yaml --step nudge \\
    --event '{"event":"checkout_started","userId":"u1","properties":{"cart_id":"c-1"}}'`,
  stats: STATS_HELP,
};

const OPTIONS = {
  ...COMMON_OPTIONS,
  previous: { type: 'string' },
  version: { type: 'string' },
  step: { type: 'string' },
  event: { type: 'string' },
  profile: { type: 'string' },
  compiled: { type: 'boolean' },
  since: { type: 'string' },
  shadow: { type: 'boolean' },
  json: { type: 'boolean' },
  'allow-missing-destinations': { type: 'boolean' },
} as const;

export async function journeyCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS, 'cairn journey');
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out((command !== undefined && JOURNEY_COMMAND_HELP[command]) || JOURNEY_HELP);
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
      if (values.shadow && previous !== undefined) {
        throw new CliError(
          '--shadow and --previous do not go together: a shadow leaves the active version as it is',
          'Drop --previous (or --shadow)',
        );
      }
      const checked = await validateFile(io, file);
      if (!checked.journey) return checked.code;
      const doc = checked.journey;
      const source = checked.source;
      if (values.shadow) {
        const allowMissing = values['allow-missing-destinations'] === true;
        const shadow = await registryErrors(doc.id, () =>
          withBus(io, url, async (bus) => {
            await checkDestinations(io, bus, file, doc, allowMissing);
            return publishShadowVersion(bus, doc, { ...(source !== undefined && { source }) });
          }),
        );
        io.out(
          `published ${shadow.id} v${shadow.version} as the shadow: decided beside the active version on every event, sending nothing`,
        );
        if (shadow.replaced !== undefined)
          io.out(`archived v${shadow.replaced}, the shadow until now: its instances end`);
        return 0;
      }
      const { published, ended } = await withBus(io, url, async (bus, config) => {
        await checkDestinations(io, bus, file, doc, values['allow-missing-destinations'] === true);
        return publishJourney(bus, config, doc, {
          source,
          ...(previous !== undefined && { previous }),
        });
      });
      if (published.unchanged) {
        io.out(
          `unchanged: ${published.id} v${published.version} is active with the same content; no new version`,
        );
        return 0;
      }
      io.out(`published ${published.id} v${published.version}`);
      if (published.previous && ended !== undefined)
        io.out(`archived v${published.previous.version}: ending its ${ended} running instance(s)`);
      else if (published.previous)
        io.out(`v${published.previous.version} drains: its running instances finish on it`);
      return 0;
    }
    case 'list': {
      const unreadable: string[] = [];
      const journeys = await withBus(io, url, (bus) =>
        listJourneys(bus, (err) => unreadable.push(err.message)),
      );
      // A corrupt head is named, and the others are still listed.
      for (const line of unreadable)
        io.err(`cairn: skipped ${line}. Publish that journey again, or delete the key`);
      if (journeys.length === 0 && unreadable.length === 0) {
        io.out('no journeys yet: publish one with `cairn journey publish <file>`');
        return 0;
      }
      for (const j of journeys) io.out(describeHead(j));
      return 0;
    }
    case 'show': {
      const id = positional(rest, 0, 'id', 'cairn journey show <id> [--version <n>]');
      const wanted = values.version === undefined ? undefined : parseVersion(values.version);
      const shown = await withBus(io, url, (bus) => loadJourneyVersion(bus, id, wanted));
      const status = shown.head.versions[String(shown.version)] ?? 'unknown';
      const { stored } = shown;
      const header = `# ${id} v${shown.version} (${status}), published ${new Date(stored.publishedAt).toISOString()}, hash ${stored.hash}`;
      // As written (it validates and publishes again); the compiled form on request, or for a
      // version published before sources were kept.
      if (values.compiled || stored.source === undefined) {
        io.out(header);
        io.out(
          values.compiled
            ? '# the compiled form: durations in milliseconds, defaults filled in'
            : '# stored before sources were kept: the compiled form (durations in milliseconds), not the text as written',
        );
        io.out(toYaml(stored.document).trimEnd());
        return 0;
      }
      if (!/^\s*[[{]/.test(stored.source)) io.out(header); // a comment line would break JSON
      io.out(stored.source.trimEnd());
      return 0;
    }
    case 'promote': {
      const id = positional(rest, 0, 'id', 'cairn journey promote <id>');
      const promoted = await registryErrors(id, () => withBus(io, url, (bus) => promoteShadow(bus, id)));
      io.out(`promoted ${id} v${promoted.version}: active now, its sends are delivered`);
      if (promoted.previous !== undefined)
        io.out(`v${promoted.previous} drains: its running instances finish on it`);
      io.out(`the shadow's own instances end (shadow_ended) when their pending timers fire`);
      return 0;
    }
    case 'archive': {
      const id = positional(rest, 0, 'id', 'cairn journey archive <id> [--shadow]');
      if (values.shadow) {
        const { version } = await registryErrors(id, () => withBus(io, url, (bus) => archiveShadow(bus, id)));
        io.out(`archived the shadow ${id} v${version}: its instances end when their pending timers fire`);
        return 0;
      }
      const { version, ended } = await withBus(io, url, (bus, config) => archiveAndEnd(bus, config, id));
      io.out(`archived ${id} v${version}: ending its ${ended} running instance(s)`);
      return 0;
    }
    case 'preview': {
      const usage = 'cairn journey preview <file|id> --step <step> --event <json>';
      const ref = positional(rest, 0, 'file|id', usage);
      if (values.step === undefined) throw new CliError('missing --step <step>', `Usage: ${usage}`);
      if (values.event === undefined) throw new CliError('missing --event <json>', `Usage: ${usage}`);
      const journey = await previewJourney(io, ref, url);
      const now = Date.now();
      const entry = makeEvent(eventSpecOf(values.event, now));
      const profile = values.profile === undefined ? undefined : profileOf(values.profile);
      const result = previewSend(journey, values.step, {
        entry,
        now,
        ...(profile !== undefined && { profile }),
      });
      if ('error' in result) {
        throw new CliError(
          `${result.error.code}: ${result.error.message}`,
          previewHint(journey, result.error.code),
        );
      }
      // stdout is the payload alone (pipe it to jq); the size line goes to stderr.
      io.out(JSON.stringify(result.payload, null, 2));
      io.err(
        `# ${result.bytes} bytes (limit ${journey.limits.maxPayloadBytes}); ${journey.id} v${journey.version}, step ${values.step}`,
      );
      return 0;
    }
    case 'stats': {
      const id = positional(rest, 0, 'id', 'cairn journey stats <id> [--version <n>] [--since <duration>]');
      const version = values.version === undefined ? undefined : parseVersion(values.version);
      const sinceMs = values.since === undefined ? undefined : parseSince(values.since);
      const lines = await withBus(io, url, (bus) =>
        journeyStatsLines(bus, id, version, {
          ...(sinceMs !== undefined && { sinceMs }),
          shadow: values.shadow === true,
          json: values.json === true,
        }),
      );
      for (const line of lines) io.out(line);
      return 0;
    }
    default:
      throw new CliError(`unknown command \`journey ${command}\``, 'See `cairn journey --help`');
  }
}

/** No version `n` of a stored journey. */
export const JOURNEY_VERSION_NOT_FOUND = 'CAIRN_E_JOURNEY_VERSION_NOT_FOUND';
/** A journey sends to destinations that are not stored. */
export const JOURNEY_MISSING_DESTINATION = 'CAIRN_E_JOURNEY_MISSING_DESTINATION';

export const journeyNotFound = (id: string): CodedError =>
  new CodedError(
    JOURNEY_NOT_FOUND,
    `journey ${id} does not exist`,
    'List the journeys with `cairn journey list`',
    'not_found',
  );

/** A stored version of a journey: version `wanted`, else the active one, else the latest. */
export async function loadJourneyVersion(
  bus: Bus,
  id: string,
  wanted?: number,
): Promise<{ head: JourneyHead; version: number; stored: JourneyVersion }> {
  const head = await readJourneyHead(bus, id);
  if (!head) throw journeyNotFound(id);
  const version = wanted ?? head.active ?? head.latest;
  const stored = await readJourneyVersion(bus, id, version);
  if (!stored) {
    throw new CodedError(
      JOURNEY_VERSION_NOT_FOUND,
      `journey ${id} has no version ${version}`,
      `Its versions: ${Object.keys(head.versions).join(', ')}`,
      'not_found',
    );
  }
  return { head, version, stored };
}

/**
 * Stores a validated journey as its next version (none when the active one has the same hash);
 * when the previous version is archived rather than drained, ends its running instances.
 */
export async function publishJourney(
  bus: Bus,
  config: Pick<Config, 'partitions'>,
  doc: JourneyDocument,
  opts: { source?: string; previous?: 'drain' | 'archive' },
): Promise<{ published: JourneyPublishResult; ended?: number }> {
  const published = await publishJourneyVersion(bus, doc, {
    ifChanged: true,
    ...(opts.source !== undefined && { source: opts.source }),
    ...(opts.previous !== undefined && { previous: opts.previous }),
  });
  const ended =
    !published.unchanged && published.previous?.status === 'archived'
      ? await endArchivedInstances(bus, {
          journeyId: published.id,
          version: published.previous.version,
          partitions: config.partitions,
        })
      : undefined;
  return ended === undefined ? { published } : { published, ended };
}

/** Archives the journey's active version and ends its running instances (how many). */
export async function archiveAndEnd(
  bus: Bus,
  config: Pick<Config, 'partitions'>,
  id: string,
): Promise<{ version: number; ended: number }> {
  try {
    const { version } = await archiveJourney(bus, id);
    const ended = await endArchivedInstances(bus, { journeyId: id, version, partitions: config.partitions });
    return { version, ended };
  } catch (err) {
    if (err instanceof JourneyRegistryError && err.code === JOURNEY_NOT_FOUND) throw journeyNotFound(id);
    if (err instanceof JourneyRegistryError && err.code === JOURNEY_NOT_ACTIVE) {
      throw new CodedError(
        JOURNEY_NOT_ACTIVE,
        `journey ${id} has no active version`,
        'Publish a version first, or leave it archived',
        'conflict',
      );
    }
    throw err;
  }
}

/** A destination a journey sends to that is not stored: where it is used, and a guess. */
export interface MissingDestination {
  id: string;
  path: string;
  guess?: string;
}

/** The destinations the journey sends to that do not exist, and those that do. */
export async function missingDestinations(
  bus: Bus,
  doc: JourneyDocument,
): Promise<{ missing: MissingDestination[]; known: string[] }> {
  const used = destinationsOf(doc);
  if (used.size === 0) return { missing: [], known: [] };
  const known = (await listDestinations(bus)).map((d) => d.id);
  const missing = [...used]
    .filter(([id]) => !known.includes(id))
    .map(([id, path]) => {
      const guess = closest(id, known);
      return guess ? { id, path, guess } : { id, path };
    });
  return { missing, known };
}

/** The error for destinations that do not exist (`what`: the file or the draft). */
export function missingDestinationsError(what: string, count: number): CodedError {
  return new CodedError(
    JOURNEY_MISSING_DESTINATION,
    `${what} sends to ${count} destination(s) that do not exist`,
    'Put them first (`cairn destination put <file>`), fix the ids, or publish with --allow-missing-destinations when they come later',
  );
}

/** The registry's errors about a journey as one line each, with what to do. */
async function registryErrors<T>(id: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof JourneyRegistryError)) throw err;
    switch (err.code) {
      case JOURNEY_NOT_FOUND:
        throw new CliError(
          `journey ${id} does not exist`,
          'Publish it first (`cairn journey publish <file>`): a shadow runs beside an active version',
        );
      case JOURNEY_NOT_ACTIVE:
        throw new CliError(
          `journey ${id} has no active version for a shadow to run beside`,
          'Publish a version first (`cairn journey publish <file>`)',
        );
      case JOURNEY_NO_SHADOW:
        throw new CliError(
          `journey ${id} has no shadow version`,
          'Publish one with `cairn journey publish <file> --shadow`; `cairn journey list` shows each version',
        );
      default:
        throw err;
    }
  }
}

/** Where the journey sends: each destination id with the path of its first use. */
function destinationsOf(doc: JourneyDocument): Map<string, string> {
  const out = new Map<string, string>();
  doc.steps.forEach((step, i) => {
    if (step.type !== 'send') return;
    step.to.forEach((id, j) => {
      if (!out.has(id)) out.set(id, `steps[${i}].to[${j}]`);
    });
  });
  doc.exit.send?.to.forEach((id, j) => {
    if (!out.has(id)) out.set(id, `exit.send.to[${j}]`);
  });
  return out;
}

/**
 * Every destination a journey sends to must exist: an error with a did-you-mean, or with
 * --allow-missing-destinations a warning (its deliveries wait for it, then go to the DLQ).
 */
async function checkDestinations(
  io: CliIo,
  bus: Bus,
  file: string,
  doc: JourneyDocument,
  allowMissing: boolean,
): Promise<void> {
  const { missing, known } = await missingDestinations(bus, doc);
  if (missing.length === 0) return;
  for (const { id, path, guess } of missing) {
    io.err(
      `${file}: ${allowMissing ? 'warning' : 'error'} at ${path}: destination '${id}' does not exist (${guess ? `did you mean '${guess}'? ` : ''}destinations: ${known.join(', ') || 'none yet'})`,
    );
  }
  if (!allowMissing) throw missingDestinationsError(file, missing.length);
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
  const shadow = head.shadow == null ? '' : `  shadow v${head.shadow}`;
  return `${head.id}  ${active}${shadow}  (${versions})`;
}

/** Prints every issue (errors and warnings); the journey when it is valid. */
export async function validateFile(
  io: CliIo,
  file: string,
): Promise<{ code: ExitCode; journey?: JourneyDocument; source?: string }> {
  const source = await readText(io, file);
  const result = parseJourney(source);
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
  return { code: 0, journey: result.journey, source };
}

/** A journey from a file (offline, as version 1) or, when no such file exists, the stored one. */
async function previewJourney(io: CliIo, ref: string, url: string | undefined): Promise<CompiledJourney> {
  if (existsSync(resolve(io.cwd, ref))) {
    const result = parseJourney(await readText(io, ref));
    if (!result.ok) {
      for (const issue of result.errors) io.err(formatIssue(ref, issue));
      throw new CliError(`${ref} is not a valid journey`, `Fix it (\`cairn journey validate ${ref}\`)`);
    }
    return compile(result.journey, { version: 1 });
  }
  const stored = await withBus(io, url, async (bus) => {
    const head = await readJourneyHead(bus, ref);
    if (!head) return undefined;
    const version = head.active ?? head.latest;
    return { version, stored: await readJourneyVersion(bus, ref, version) };
  });
  if (!stored?.stored) {
    throw new CliError(
      `${ref} is neither a file nor a stored journey`,
      'Give a journey file, or an id from `cairn journey list`',
    );
  }
  return compile(stored.stored.document, { version: stored.version });
}

/** What to do about a preview that built no payload (a step that is not a send, a payload too big). */
export function previewHint(journey: CompiledJourney, code: string): string {
  return code.endsWith('NOT_A_SEND_STEP')
    ? `Send steps of ${journey.id}: ${sendSteps(journey).join(', ') || 'none'}`
    : 'Map fewer or smaller fields into the payload';
}

function sendSteps(journey: CompiledJourney): string[] {
  return Object.values(journey.steps)
    .filter((s) => s.type === 'send')
    .map((s) => s.id);
}

function jsonObject(raw: string, what: string, example: string): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch (err) {
    throw new CliError(`${what} is not JSON (${(err as Error).message})`, `Write e.g. ${example}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new CliError(`${what} is not a JSON object`, `Write e.g. ${example}`);
  }
  return obj as Record<string, unknown>;
}

const EVENT_EXAMPLE = `'{"event":"checkout_started","userId":"u1","properties":{"cart_id":"c-1"}}'`;

/** A Segment-style event (`event` or `name`, `userId`/`anonymousId`, properties, traits). */
function eventSpecOf(raw: string, now: number): EventSpec {
  return eventSpecOfObject(jsonObject(raw, '--event', EVENT_EXAMPLE), now, '--event');
}

/** The same from a parsed object (the admin API's preview); `what` names it in the error. */
export function eventSpecOfObject(e: Record<string, unknown>, now: number, what: string): EventSpec {
  const str = (k: string): string | undefined => {
    const v = e[k];
    return typeof v === 'string' ? v : undefined;
  };
  const obj = (k: string): Record<string, unknown> | undefined =>
    typeof e[k] === 'object' && e[k] !== null && !Array.isArray(e[k])
      ? (e[k] as Record<string, unknown>)
      : undefined;
  const name = str('event') ?? str('name');
  const timestamp = str('timestamp') === undefined ? undefined : Date.parse(str('timestamp')!);
  const spec: EventSpec = { at: now };
  if (name !== undefined) spec.name = name;
  const type = str('type');
  if (type !== undefined) spec.type = type as NonNullable<EventSpec['type']>;
  for (const k of ['userId', 'anonymousId', 'messageId'] as const) {
    const v = str(k);
    if (v !== undefined) spec[k] = v;
  }
  for (const k of ['properties', 'traits', 'context'] as const) {
    const v = obj(k);
    if (v !== undefined) spec[k] = v;
  }
  if (timestamp !== undefined && !Number.isNaN(timestamp)) spec.timestamp = timestamp;
  if (spec.userId === undefined && spec.anonymousId === undefined) {
    throw new CliError(`${what} has neither userId nor anonymousId`, `Write e.g. ${EVENT_EXAMPLE}`);
  }
  return spec;
}

function profileOf(raw: string): { traits: Record<string, unknown>; audiences: string[] } {
  const p = jsonObject(raw, '--profile', `'{"traits":{"email":"a@example.com"},"audiences":["vip"]}'`);
  const traits =
    typeof p['traits'] === 'object' && p['traits'] !== null ? (p['traits'] as Record<string, unknown>) : {};
  const audiences = Array.isArray(p['audiences']) ? p['audiences'].map(String) : [];
  return { traits, audiences };
}

// `cairn replay <journey.yaml|id> --since 7d`: a journey (a draft file, or a stored journey's
// active version) run by the pure core over the events EVENTS recorded in a window, on a virtual
// clock. Prints the step tree and the would-be sends; `--compare <id>` runs the stored active
// version beside the draft and lists the users whose outcome differs. Never sends, never reads or
// writes an instance: only EVENTS, KV `journeys` and KV `profiles` are read.
import { createWriteStream, type WriteStream } from 'node:fs';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { renderStatsComparison, renderStatsTree } from '../../libs/insight/index.js';
import { BUCKETS, readJourneyHead, readJourneyVersion, type Bus } from '../../libs/bus/index.js';
import { parseDurationMs, type Config } from '../../libs/config/index.js';
import {
  compile,
  parseJourney,
  type CompiledJourney,
  type JournalRecord,
  type JourneyDocument,
} from '../../libs/journey/index.js';
import { COMMON_OPTIONS, parse } from './args.js';
import { withBus } from './connect.js';
import { readText } from './files.js';
import { CliError, type CliIo, type ExitCode } from './io.js';
import { formatIssue } from './issues.js';
import { PROFILE_CACHE_SIZE, ReplayIdentity, storedProfileKeys } from './replay-identity.js';
import { journalLine, progressLine } from './replay-render.js';
import { replayPass, type ReplayPassOptions, type SideResult } from './replay-run.js';
import { openEventWindow } from './replay-window.js';

export const REPLAY_HELP = `Usage: cairn replay <journey-file|id> --since <duration> [options]
       cairn replay <draft-file> --compare <id> --since <duration> [options]

Runs a journey over the events EVENTS recorded in a window, on a virtual clock, and prints what it
would have done: the step tree (entered, branches taken, sends per destination, waiting at the
end) and the number of would-be sends. It never sends and never reads or writes a live instance.
A file is a draft; an id is that stored journey's active version.

Events are read in receive order and go through ingest's checks, dedupe and alias routing; holds
and delays resolve at their deadlines on the virtual clock; events after --until are not seen.
Profiles are read from KV profiles as they are now (identify traits of the window merged in).

Options:
  --since <duration>   start of the window, back from now: 30m, 24h, 7d (required)
  --until <time>       end of the window: an ISO time, or a duration back from now (default: now)
  --users <a,b,...>    only these users (user keys: userId, or anonymousId)
  --out <file>         write the would-be sends, one JSON per line, with their payloads
  --compare <id>       run the stored journey's active version beside the draft, per step and
                       destination, and list the users whose outcome differs (first 20)
  --no-profiles        every user starts with an empty profile (no KV read)
  --nats-url <url>     NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help           this help

Example:
  cairn replay cart --since 7d --out sends.ndjson
  cairn replay cart-v2.yaml --compare cart --since 24h`;

export const REPLAY_BANNER =
  'cairn replay: a dry run on recorded events; nothing is sent, no live instance is read or written';

/** Characters of --out lines gathered before a write. */
const OUT_CHUNK = 64 * 1024;

/** Users whose differing outcome is shown with its journal lines. */
export const COMPARE_SHOWN = 20;

const OPTIONS = {
  ...COMMON_OPTIONS,
  since: { type: 'string' },
  until: { type: 'string' },
  users: { type: 'string' },
  out: { type: 'string' },
  compare: { type: 'string' },
  'no-profiles': { type: 'boolean' },
} as const;

function duration(flag: string, raw: string): number {
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms <= 0) {
    throw new CliError(
      `${flag} ${JSON.stringify(raw)} is not a duration`,
      `Write e.g. ${flag} 7d, 24h or 90m`,
    );
  }
  return ms;
}

function untilOf(raw: string | undefined, now: number): number {
  if (raw === undefined) return now;
  const back = parseDurationMs(raw);
  if (back !== undefined) return now - back;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) {
    throw new CliError(
      `--until ${JSON.stringify(raw)} is neither an ISO time nor a duration`,
      'Write e.g. --until 2026-11-30T12:00:00Z or --until 1d (one day ago)',
    );
  }
  return at;
}

/** The stored journey's active version. */
async function storedJourney(bus: Bus, id: string): Promise<CompiledJourney> {
  const head = await readJourneyHead(bus, id);
  if (!head) {
    throw new CliError(
      `${id} is neither a journey file nor a stored journey`,
      'Give a journey file, or an id from `cairn journey list`',
    );
  }
  if (head.active === null) {
    throw new CliError(
      `journey ${id} has no active version`,
      'Publish it (`cairn journey publish`) or give a file',
    );
  }
  const stored = await readJourneyVersion(bus, id, head.active);
  if (!stored) throw new CliError(`journey ${id} v${head.active} is not stored`, 'Publish it again');
  return compile(stored.document, { version: head.active });
}

async function draftDocument(io: CliIo, file: string): Promise<JourneyDocument> {
  const result = parseJourney(await readText(io, file));
  if (!result.ok) {
    for (const issue of result.errors) io.err(formatIssue(file, issue));
    throw new CliError(`${file} is not a valid journey`, `Fix it (\`cairn journey validate ${file}\`)`);
  }
  return result.journey;
}

/** A draft is compiled as the version it would become: the stored journey's next one. */
async function draftJourney(bus: Bus, doc: JourneyDocument): Promise<CompiledJourney> {
  const head = await readJourneyHead(bus, doc.id);
  return compile(doc, { version: (head?.latest ?? 0) + 1 });
}

interface Plan {
  ref: string;
  draft: JourneyDocument | undefined;
  compare: string | undefined;
  window: { since: number; until: number };
  users: Set<string> | undefined;
  out: string | undefined;
  profiles: boolean;
}

export async function replayCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS, 'cairn replay');
  if (values.help) {
    io.out(REPLAY_HELP);
    return 0;
  }
  const ref = positionals[0];
  if (ref === undefined) {
    throw new CliError('missing <journey-file|id>', 'Usage: cairn replay <journey-file|id> --since 7d');
  }
  if (positionals.length > 1) {
    throw new CliError(`one journey at a time, not ${positionals.length}`, 'Give one file or id');
  }
  if (values.since === undefined) {
    throw new CliError('missing --since <duration>', 'Say how far back the window starts, e.g. --since 7d');
  }
  const now = Date.now();
  const since = now - duration('--since', values.since);
  const until = untilOf(values.until, now);
  if (until <= since) {
    throw new CliError(
      `the window is empty: --until ${new Date(until).toISOString()} is not after --since ${new Date(since).toISOString()}`,
      'Give an --until later than the start of the window',
    );
  }
  const isFile = existsSync(resolve(io.cwd, ref));
  if (values.compare !== undefined && !isFile) {
    throw new CliError(
      `--compare needs a draft file, and ${ref} is not a file`,
      'Run cairn replay <draft-file> --compare <id>',
    );
  }
  const users =
    values.users === undefined
      ? undefined
      : new Set(
          values.users
            .split(',')
            .map((u) => u.trim())
            .filter(Boolean),
        );
  if (users?.size === 0) throw new CliError('--users names no user', 'Write e.g. --users u1,u2');
  const plan: Plan = {
    ref,
    draft: isFile ? await draftDocument(io, ref) : undefined,
    compare: values.compare,
    window: { since, until },
    users,
    out: values.out,
    profiles: values['no-profiles'] !== true,
  };
  io.out(REPLAY_BANNER);
  return withBus(io, values['nats-url'], (bus, config) => runReplay(io, bus, config, plan));
}

async function runReplay(io: CliIo, bus: Bus, config: Config, plan: Plan): Promise<ExitCode> {
  const primary = plan.draft ? await draftJourney(bus, plan.draft) : await storedJourney(bus, plan.ref);
  const compared = plan.compare === undefined ? undefined : await storedJourney(bus, plan.compare);
  const journeys = compared ? [primary, compared] : [primary];
  const kv = plan.profiles ? await bus.store(BUCKETS.profiles) : undefined;
  const storedKeys = plan.profiles ? await storedProfileKeys(await bus.kv(BUCKETS.profiles)) : undefined;
  const dedupeWindowMs = Math.max(config.dedupeWindowMs, config.ingestDedupeWindowMs);

  const label = (j: CompiledJourney, draft: boolean): string =>
    `${j.id} v${j.version}${draft ? ' (draft)' : ''}`;
  io.out(
    `${journeys.map((j, i) => label(j, i === 0 && plan.draft !== undefined)).join(' vs ')}  ` +
      `window ${new Date(plan.window.since).toISOString()} .. ${new Date(plan.window.until).toISOString()}` +
      (plan.users ? `  users ${[...plan.users].join(',')}` : ''),
  );

  const out: WriteStream | undefined = plan.out ? createWriteStream(resolve(io.cwd, plan.out)) : undefined;
  const pass = async (extra: Partial<ReplayPassOptions>) => {
    const window = await openEventWindow(bus, plan.window);
    const progress = progressReporter(window.total);
    try {
      return await replayPass(window.messages, {
        journeys,
        window: plan.window,
        identity: new ReplayIdentity(kv, PROFILE_CACHE_SIZE, storedKeys),
        dedupeWindowMs,
        ...(plan.users ? { users: plan.users } : {}),
        ...(progress ? { onProgress: progress.update } : {}),
        ...extra,
      });
    } finally {
      progress?.done();
    }
  };

  // Sends are written in chunks of about OUT_CHUNK characters: one write per line costs more
  // than the line.
  let chunk = '';
  const first = await pass({
    fingerprints: compared !== undefined,
    ...(out
      ? {
          onSend: (side, send) => {
            if (side !== 0) return;
            chunk += `${JSON.stringify(send)}\n`;
            if (chunk.length >= OUT_CHUNK) {
              out.write(chunk);
              chunk = '';
            }
          },
        }
      : {}),
  });
  if (out) {
    if (chunk !== '') out.write(chunk);
    await new Promise<void>((done, fail) => out.end((err?: Error | null) => (err ? fail(err) : done())));
  }

  const { counts, sides } = first;
  io.out(
    `events: ${counts.read} read, ${counts.replayed} replayed` +
      `, ${counts.refused} refused by ingest's checks, ${counts.duplicates} repeated messageIds` +
      (plan.users ? `, ${counts.filtered} of other users` : ''),
  );
  const [left, right] = sides as [SideResult, SideResult | undefined];
  if (!right) {
    io.out('');
    io.out(renderStatsTree(left.stats, left.journey.doc));
    io.out('');
    io.out(`would-be sends: ${left.sends}${plan.out ? ` (written to ${plan.out})` : ''}`);
    return 0;
  }

  io.out('');
  io.out(
    renderStatsComparison(left.stats, right.stats, {
      labels: [label(left.journey, true), label(right.journey, false)],
      markDiffers: true,
    }),
  );
  io.out('');
  io.out(
    `would-be sends: ${left.sends} (draft), ${right.sends} (active)${plan.out ? ` (draft's written to ${plan.out})` : ''}`,
  );

  const differing: string[] = [];
  for (const user of new Set([...left.outcomes.keys(), ...right.outcomes.keys()])) {
    if (left.outcomes.get(user) !== right.outcomes.get(user)) differing.push(user);
  }
  io.out('');
  if (differing.length === 0) {
    io.out('users whose outcome differs: none');
    return 0;
  }
  const shown = differing.slice(0, COMPARE_SHOWN);
  io.out(
    `users whose outcome differs: ${differing.length}${differing.length > shown.length ? ` (first ${shown.length})` : ''}`,
  );
  // A second look at those users alone, keeping their journal lines this time.
  const lines = new Map<string, [string[], string[]]>(shown.map((u) => [u, [[], []]]));
  await pass({
    users: new Set(shown),
    onJournal: (side: number, record: JournalRecord) =>
      lines.get(record.userKey)?.[side]?.push(journalLine(record)),
  });
  for (const user of shown) {
    const [draft, active] = lines.get(user) ?? [[], []];
    io.out(`  ${user}`);
    io.out(`    ${label(left.journey, true)}:`);
    for (const line of draft.length ? draft : ['(nothing)']) io.out(`      ${line}`);
    io.out(`    ${label(right.journey, false)}:`);
    for (const line of active.length ? active : ['(nothing)']) io.out(`      ${line}`);
  }
  return 0;
}

/** A progress bar on stderr, only when it is a terminal. */
function progressReporter(total: number): { update: (read: number) => void; done: () => void } | undefined {
  if (!process.stderr.isTTY || total === 0) return undefined;
  const startedAt = Date.now();
  let last = 0;
  return {
    update: (read) => {
      const now = Date.now();
      if (now - last < 200 && read < total) return;
      last = now;
      process.stderr.write(`\r${progressLine(read, total, startedAt, now)}`);
    },
    done: () => process.stderr.write('\r\x1b[2K'),
  };
}

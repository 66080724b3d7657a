// `cairn simulate <journey-file>... --events <file.ndjson>`: the pure core over a virtual clock,
// offline. Prints one line per journal record and send, at virtual times from the first event.
import {
  compile,
  makeEvent,
  parseJourney,
  simulate,
  type CompiledJourney,
  type EventSpec,
  type Profile,
  type Timeline,
} from '../../libs/journey/index.js';
import { parseDurationMs } from '../../libs/config/index.js';
import { parse } from './args.js';
import { readDocument, readText } from './files.js';
import { CliError, type CliIo, type ExitCode } from './io.js';
import { formatIssue } from './issues.js';

export const SIMULATE_HELP = `Usage: cairn simulate <journey-file>... --events <file.ndjson> [--profiles <file.json>] [--json]

Runs the journeys over the events on a virtual clock, offline, and prints the timeline: one
line per journal record (entered, step, waiting, timer fired, exited, ...) and per send.

Each line of the events file is one JSON event:
  {"at": "0s", "name": "checkout_started", "userId": "u1", "properties": {"cart_id": "c-1"}}
  {"at": "2m", "type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}}
"at" is the receive time: milliseconds, a duration from the start ("90s"), or an ISO time.
The profiles file maps user keys to { "traits": {...}, "audiences": [...] }.

Options:
  --events <file>     the events (NDJSON), required
  --profiles <file>   starting profiles (JSON or YAML)
  --json              print the whole timeline as JSON
  -h, --help          this help`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  events: { type: 'string' },
  profiles: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function simulateCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS, 'cairn simulate');
  if (values.help) {
    io.out(SIMULATE_HELP);
    return 0;
  }
  if (positionals.length === 0)
    throw new CliError(
      'missing <journey-file>',
      'Usage: cairn simulate <journey-file> --events <file.ndjson>',
    );
  if (values.events === undefined)
    throw new CliError('missing --events <file.ndjson>', 'Give the events to run, one JSON object per line');

  const journeys: CompiledJourney[] = [];
  for (const file of positionals) {
    const result = parseJourney(await readText(io, file));
    if (!result.ok) {
      for (const issue of result.errors) io.out(formatIssue(file, issue));
      throw new CliError(
        `${file} is not a valid journey`,
        `Fix it (\`cairn journey validate ${file}\`) and run again`,
      );
    }
    journeys.push(compile(result.journey, { version: 1 }));
  }
  const events = parseEvents(values.events, await readText(io, values.events));
  const profiles = values.profiles === undefined ? {} : await readProfiles(io, values.profiles);

  let timeline: Timeline;
  try {
    timeline = simulate(journeys, events, { profiles });
  } catch (err) {
    throw new CliError(`the simulation failed: ${(err as Error).message}`, 'Check the events file');
  }
  if (values.json) {
    io.out(JSON.stringify(timeline, null, 2));
    return 0;
  }
  const origin = events.reduce((min, e) => Math.min(min, e.at), Infinity);
  for (const line of timelineLines(timeline, Number.isFinite(origin) ? origin : 0)) io.out(line);
  return 0;
}

/** The events of an ndjson text (`file` names it in errors): one JSON object a line. */
export function parseEvents(file: string, text: string): EventSpec[] {
  const out: EventSpec[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(
        `${file}:${i + 1} is not JSON (${(err as Error).message})`,
        'Write one JSON object per line',
      );
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new CliError(`${file}:${i + 1} is not a JSON object`, 'Write one JSON object per line');
    }
    const at = instantOf(obj['at']);
    if (at === undefined) {
      throw new CliError(
        `${file}:${i + 1} has no valid "at"`,
        'Give "at" as milliseconds, a duration like "90s", or an ISO time',
      );
    }
    const spec = { ...obj, at } as unknown as EventSpec;
    try {
      makeEvent(spec);
    } catch (err) {
      throw new CliError(
        `${file}:${i + 1}: ${(err as Error).message}`,
        'Give each event a userId or anonymousId',
      );
    }
    out.push(spec);
  });
  return out;
}

function instantOf(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  if (typeof raw !== 'string') return undefined;
  const duration = parseDurationMs(raw);
  if (duration !== undefined) return duration;
  const iso = Date.parse(raw);
  return Number.isNaN(iso) ? undefined : iso;
}

async function readProfiles(io: CliIo, file: string): Promise<Record<string, Profile>> {
  const doc = await readDocument(io, file);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new CliError(
      `${file} is not a map of user key -> profile`,
      'Write {"u1": {"traits": {...}, "audiences": []}}',
    );
  }
  const out: Record<string, Profile> = {};
  for (const [userKey, value] of Object.entries(doc as Record<string, Record<string, unknown>>)) {
    out[userKey] = {
      traits: (value['traits'] as Record<string, unknown> | undefined) ?? {},
      audiences: (value['audiences'] as string[] | undefined) ?? [],
    };
  }
  return out;
}

/** `+0.000s` relative to the first event. */
export function virtualTime(at: number, origin: number): string {
  return `+${((at - origin) / 1000).toFixed(3)}s`;
}

export function timelineLines(timeline: Timeline, origin: number): string[] {
  const rows: Array<{ at: number; seq: number; text: string }> = [];
  let seq = 0;
  for (const r of timeline.journal) {
    const details = [
      r.stepId && `step=${r.stepId}`,
      r.branchId && `branch=${r.branchId}`,
      r.reason && `reason=${r.reason}`,
      r.instanceKey && r.instanceKey !== '_' && `key=${r.instanceKey}`,
    ].filter(Boolean);
    rows.push({
      at: r.at,
      seq: seq++,
      text: `${r.journeyId}  ${r.userKey}  ${r.type}${details.length ? `  ${details.join(' ')}` : ''}`,
    });
  }
  for (const r of timeline.refusals) {
    if (timeline.journal.includes(r)) continue;
    rows.push({
      at: r.at,
      seq: seq++,
      text: `${r.journeyId}  ${r.userKey}  refused  reason=${r.reason ?? '?'}`,
    });
  }
  for (const s of timeline.sends) {
    const p = s.payload;
    const event = typeof p['event'] === 'string' ? `  "${p['event']}"` : '';
    rows.push({
      at: s.at,
      seq: seq++,
      text: `${s.stepKey.journeyId}  send  step=${s.stepKey.stepId} -> ${s.destination}${event}  delivery=${s.deliveryId}`,
    });
  }
  for (const t of timeline.timers) {
    if (t.outcome === 'pending')
      rows.push({ at: t.at, seq: seq++, text: `${t.journeyId}  ${t.userKey}  timer pending` });
  }
  rows.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return rows.map((r) => `${virtualTime(r.at, origin)}  ${r.text}`);
}

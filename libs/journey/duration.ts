// Durations as people write them (`30s`, `5m`, `2h`, `7d`, `1w`, `1h30m`, `-1h`) and as the
// engine stores them (milliseconds). A bare number is a number of seconds.
import { JourneyCodes, JourneyError } from './errors.js';
import type { Millis } from './types.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

const WHOLE = /^([+-])?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+)$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** The milliseconds a duration denotes, or undefined when it is not a duration. */
export function tryParseDuration(input: string | number): Millis | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? Math.round(input * 1_000) : undefined;
  const match = WHOLE.exec(input.trim());
  if (!match) return undefined;
  let total = 0;
  for (const part of (match[2] ?? '').matchAll(PART)) {
    total += Number(part[1]) * UNIT_MS[part[2] as Unit];
  }
  const ms = Math.round(total);
  return match[1] === '-' ? -ms : ms;
}

/** Parses `30s`, `5m`, `2h`, `7d`, `1w`, compounds like `1h30m`, a sign, or seconds as a number. */
export function parseDuration(input: string | number): Millis {
  const ms = tryParseDuration(input);
  if (ms === undefined) {
    const message = `${JSON.stringify(input)} is not a duration`;
    const hint = DURATION_HINT;
    throw new JourneyError(
      message,
      [{ code: JourneyCodes.BAD_DURATION, severity: 'error', path: '', message, hint }],
      JourneyCodes.BAD_DURATION,
    );
  }
  return ms;
}

export const DURATION_HINT =
  'write a number followed by a unit: ms, s, m, h, d or w (e.g. 30s, 5m, 2h, 7d, 1h30m), or a number of seconds';

const DESCENDING: Unit[] = ['w', 'd', 'h', 'm', 's', 'ms'];

/** The shortest exact spelling of a duration: 90_000 -> `1m30s`, 0 -> `0s`, -3_600_000 -> `-1h`. */
export function formatDuration(ms: Millis): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite duration: ${ms}`);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of DESCENDING) {
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return ms < 0 ? `-${out}` : out;
}

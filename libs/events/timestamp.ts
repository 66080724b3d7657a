// ISO-8601 instants as the Segment Spec sends them, parsed without Date.parse: Date.parse reads
// a date-time without a zone in the host's local time zone, so the same event would normalize
// differently on two machines. Here a time must carry its zone; a bare date is UTC midnight.

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?))?$/;

const DAY_MS = 86_400_000;
/** 400 Gregorian years are exactly 146,097 days; shifting by them keeps Date.UTC away from its
 * two-digit-year rule (years 0-99 would mean 1900-1999). */
const FOUR_CENTURIES_MS = 146_097 * DAY_MS;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Zone designator to an offset in minutes east of UTC; undefined when out of range. */
function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * Epoch milliseconds of an ISO-8601 date (`2024-05-01`, UTC) or date-time with a zone
 * (`2024-05-01T12:00:00.123Z`, `...+02:00`, `...+0200`); fractions beyond milliseconds are
 * truncated. Undefined for anything else, including impossible dates like `2023-02-29`.
 */
export function parseSpecTimestamp(text: string): number | undefined {
  const m = ISO_INSTANT.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // The regex makes hour, minute and zone all present or all absent.
  if (h === undefined || mi === undefined || zone === undefined) {
    return Date.UTC(year + 400, month - 1, day) - FOUR_CENTURIES_MS;
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const offset = zoneOffsetMinutes(zone);
  if (hour > 23 || minute > 59 || second > 59 || offset === undefined) return undefined;
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  const local = Date.UTC(year + 400, month - 1, day, hour, minute, second, ms) - FOUR_CENTURIES_MS;
  return local - offset * 60_000;
}

/** The instants an event may carry, in every timestamp field and after the skew correction:
 * from the Unix epoch (where a reset device clock starts) up to, not including, 2100. Outside it
 * a time is a broken clock or a forgery, and arithmetic on it (the skew correction) could leave
 * the range that Cairn formats as ISO-8601. */
export const TIMESTAMP_WINDOW = Object.freeze({
  minMs: 0,
  maxMs: Date.UTC(2100, 0, 1),
  text: '1970-01-01T00:00:00Z to 2099-12-31T23:59:59.999Z',
});

export function isInTimestampWindow(ms: number): boolean {
  return ms >= TIMESTAMP_WINDOW.minMs && ms < TIMESTAMP_WINDOW.maxMs;
}

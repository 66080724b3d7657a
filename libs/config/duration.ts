// Durations in settings (`30s`, `5m`, `2h`, `7d`, `1h30m`, `250ms`) -> milliseconds.
// A minimal twin of libs/journey's parser, kept here so config depends on no other lib.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** Milliseconds, or undefined when `input` is not a duration. */
export function parseDurationMs(input: string): number | undefined {
  const text = input.trim();
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const part of text.matchAll(PART)) total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? 0);
  return Math.round(total);
}

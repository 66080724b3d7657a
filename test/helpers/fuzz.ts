// Settings shared by the property-based tests (fast-check): a fixed seed and modest run counts in
// `make test`, more runs in `make fuzz` (CAIRN_FUZZ_RUNS), another seed with CAIRN_FUZZ_SEED. A
// failure prints the seed and the shrunk counterexample; rerun it with CAIRN_FUZZ_SEED.
import { readFileSync } from 'node:fs';

import fc from 'fast-check';

const DEFAULT_SEED = 20_261_201;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${raw} is not a whole number`);
  return n;
}

/** fast-check parameters: `runs` in `make test`, CAIRN_FUZZ_RUNS when set. */
export function fuzzParams<T>(runs: number): fc.Parameters<T> {
  return { seed: envInt('CAIRN_FUZZ_SEED') ?? DEFAULT_SEED, numRuns: envInt('CAIRN_FUZZ_RUNS') ?? runs };
}

/** The codes listed in a section of docs/errors.md (`## Events`, ...), as table rows. */
export function documentedCodes(section: string): ReadonlySet<string> {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const body = doc.split(new RegExp(`^## ${section}$`, 'm'))[1]?.split(/^## /m)[0] ?? '';
  const codes = [...body.matchAll(/^\| `(CAIRN_[EW]_[A-Z_]+)` \|/gm)].map((m) => m[1] ?? '');
  if (codes.length === 0) throw new Error(`docs/errors.md has no codes under ## ${section}`);
  return new Set(codes);
}

/** Any UTF-16 string, lone surrogates included (what JSON's \u escapes can produce). */
export const anyUtf16 = (maxLength = 12): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });

/** A key as a producer might send one: ordinary, special to JavaScript, or any UTF-16. */
export const anyKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'b', 'name', 'email', '__proto__', 'constructor', 'prototype', 'toString', ''),
  anyUtf16(6),
);

/** JSON-like values whose objects are built with own data properties (Object.fromEntries), so a
 * `__proto__` key is a key, as JSON.parse makes it. */
export const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    anyUtf16(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(anyKey, tie('value')), { maxLength: 4 }).map((e) => Object.fromEntries(e)),
  ),
})).value;

const encoder = new TextEncoder();

/** HTTP request bodies: random bytes, JSON texts, and JSON texts with a few bytes changed or cut. */
export const requestBody: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  jsonish.map((v) => encoder.encode(JSON.stringify(v) ?? '')),
  fc
    .tuple(
      jsonish.map((v) => encoder.encode(JSON.stringify({ batch: [v], type: 'track', userId: 'u1' }))),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.option(fc.nat(), { nil: undefined }),
    )
    .map(([bytes, edits, cut]) => {
      const out = Uint8Array.from(bytes);
      for (const [at, byte] of edits) if (out.length > 0) out[at % out.length] = byte;
      return cut === undefined ? out : out.subarray(0, cut % (out.length + 1));
    }),
);

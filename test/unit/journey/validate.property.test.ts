// Property: whatever a journey author writes, the validator returns a journey or issues whose
// codes are documented in docs/errors.md (## Journey validation), each with a path and a message;
// it never throws. Inputs: valid journeys with random edits, random YAML/JSON text, any value.
import fc from 'fast-check';
import t from 'tap';
import { parse, stringify } from 'yaml';

import { parseJourney, validateJourney, type ValidationResult } from '../../../libs/journey/index.js';
import { anyKey, anyUtf16, documentedCodes, fuzzParams, jsonish } from '../../helpers/fuzz.js';
import { CART_ABANDONMENT, OTHER_STEPS } from './fixtures.js';

const CODES = documentedCodes('Journey validation');
const VALID = [CART_ABANDONMENT, OTHER_STEPS].map((text) => parse(text) as unknown);

function check(result: ValidationResult): void {
  const issues = result.ok ? result.warnings : [...result.errors, ...result.warnings];
  if (!result.ok && result.errors.length === 0) throw new Error('refused without an error');
  for (const issue of issues) {
    if (!CODES.has(issue.code)) throw new Error(`undocumented code ${issue.code}`);
    if (typeof issue.path !== 'string' || typeof issue.message !== 'string' || issue.message === '') {
      throw new Error(`malformed issue ${JSON.stringify(issue)}`);
    }
  }
}

/** Every path into a value (objects and arrays), the root included. */
function pathsOf(root: unknown): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value: root, path: [] }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    out.push(top.path);
    if (typeof top.value !== 'object' || top.value === null) continue;
    for (const [k, v] of Object.entries(top.value)) {
      stack.push({ value: v, path: [...top.path, Array.isArray(top.value) ? Number(k) : k] });
    }
  }
  return out;
}

/** Values an author might put anywhere: ids, durations, operators, numbers, or anything. */
const plausible = fc.oneof(
  fc.constantFrom(
    '1h',
    '0s',
    '200d',
    '-5m',
    'soon',
    'send',
    'hold_until',
    'exit',
    'nudge',
    'every_time',
    'once',
  ),
  fc.constantFrom({ gte: 1 }, { in: 'USD' }, { gtee: 2 }, [], {}, [{ id: 'x' }], 'properties..id'),
  fc.integer({ min: -5, max: 200 }),
  anyUtf16(),
  jsonish,
);

type Edit = { at: number; kind: 'set' | 'delete' | 'key'; value: unknown; key: string };
const edit: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('set', 'delete', 'key'),
  value: plausible,
  key: anyKey,
});

function applyEdit(doc: unknown, e: Edit): unknown {
  const paths = pathsOf(doc);
  const path = paths[e.at % paths.length] ?? [];
  if (path.length === 0) return e.kind === 'set' ? e.value : doc;
  let parent = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (e.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (e.kind === 'set') parent[last] = e.value;
  else if (!Array.isArray(parent)) {
    // A new or renamed key, defined as JSON or YAML makes it (even `__proto__`).
    Object.defineProperty(parent, e.key, {
      value: e.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return doc;
}

void t.test('valid journeys with random edits: a journey or documented issues', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(0, 1), fc.array(edit, { minLength: 1, maxLength: 4 }), (which, edits) => {
      const doc = edits.reduce(applyEdit, structuredClone(VALID[which]));
      check(validateJourney(doc));
      // The same document as text, through the YAML and the strict JSON readers.
      const json = JSON.stringify(doc);
      if (json !== undefined) {
        check(parseJourney(json, { format: 'json' }));
        check(parseJourney(json));
      }
    }),
    fuzzParams(100),
  );
  t.pass('held');
  t.end();
});

void t.test('random text, YAML-ish or not: a journey or documented issues', (t) => {
  const yamlish = fc
    .tuple(jsonish, fc.array(fc.tuple(fc.nat(), anyUtf16(2)), { maxLength: 3 }))
    .map(([value, edits]) => {
      let text = stringify(value);
      for (const [at, s] of edits) {
        const i = at % (text.length + 1);
        text = text.slice(0, i) + s + text.slice(i + 1);
      }
      return text;
    });
  fc.assert(
    fc.property(
      fc.oneof(anyUtf16(40), yamlish, fc.constantFrom('&a [*a]', 'a: &x 1\nb: *x', '{', '- - - -')),
      (text) => {
        check(parseJourney(text));
        check(parseJourney(text, { format: 'json' }));
      },
    ),
    fuzzParams(300),
  );
  t.pass('held');
  t.end();
});

void t.test('any value: a journey or documented issues', (t) => {
  fc.assert(
    fc.property(jsonish, (value) => check(validateJourney(value))),
    fuzzParams(200),
  );
  t.pass('held');
  t.end();
});

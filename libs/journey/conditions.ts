// Conditions: `where: { path: value | { op: value, ... } }` normalized to an AND list of
// `path op value`, and evaluated against an event or a journey context.
import { JourneyCodes, JourneyError } from './errors.js';
import { closest } from './suggest.js';
import type { Condition, ConditionOp } from './types.js';

export const CONDITION_OPS: readonly ConditionOp[] = [
  'eq',
  'in',
  'neq',
  'nin',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'startsWith',
];
const OPS = new Set<string>(CONDITION_OPS);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** One problem found while normalizing a `where`; `at` is the key path below the `where`. */
export interface WhereProblem {
  at: string[];
  code: string;
  message: string;
  hint: string;
}

const SCALAR_TYPES = new Set(['string', 'number', 'boolean']);
const isScalar = (v: unknown) => v === null || SCALAR_TYPES.has(typeof v);

function checkOperand(op: ConditionOp, value: unknown): string | undefined {
  switch (op) {
    case 'in':
    case 'nin':
      return Array.isArray(value) ? undefined : 'takes a list of values';
    case 'exists':
      return typeof value === 'boolean' ? undefined : 'takes true or false';
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof value === 'number' || (typeof value === 'string' && parseInstant(value) !== undefined)
        ? undefined
        : 'takes a number or an ISO-8601 date string';
    case 'contains':
      return isScalar(value) ? undefined : 'takes a single string, number or boolean';
    case 'startsWith':
      return typeof value === 'string' ? undefined : 'takes a string';
    default:
      return value === undefined ? 'takes a value' : undefined;
  }
}

/** Normalizes a `where` and lists every problem in it (nothing is thrown). */
export function parseWhere(where: Record<string, unknown>): {
  conditions: Condition[];
  problems: WhereProblem[];
} {
  const conditions: Condition[] = [];
  const problems: WhereProblem[] = [];
  for (const [path, raw] of Object.entries(where)) {
    if (!isPlainObject(raw)) {
      conditions.push({ path, op: 'eq', value: raw });
      continue;
    }
    const keys = Object.keys(raw);
    if (keys.length === 0) {
      problems.push({
        at: [path],
        code: JourneyCodes.BAD_CONDITION,
        message: `the condition on '${path}' has no operator`,
        hint: `write a value to compare with, or an operator object such as { in: [a, b] }; operators: ${CONDITION_OPS.join(', ')}`,
      });
      continue;
    }
    for (const key of keys) {
      const value = raw[key];
      if (!OPS.has(key)) {
        const guess = closest(key, CONDITION_OPS);
        problems.push({
          at: [path, key],
          code: JourneyCodes.BAD_CONDITION,
          message: `'${key}' is not a condition operator`,
          hint:
            (guess ? `did you mean '${guess}'? ` : '') +
            `operators: ${CONDITION_OPS.join(', ')}; to compare with an object, write { eq: {...} }`,
        });
        continue;
      }
      const op = key as ConditionOp;
      const wrong = checkOperand(op, value);
      if (wrong !== undefined) {
        problems.push({
          at: [path, key],
          code: JourneyCodes.BAD_CONDITION,
          message: `'${op}' ${wrong}, got ${JSON.stringify(value) ?? 'nothing'}`,
          hint: `e.g. ${EXAMPLES[op]}`,
        });
        continue;
      }
      conditions.push({ path, op, value });
    }
  }
  return { conditions, problems };
}

const EXAMPLES: Record<ConditionOp, string> = {
  eq: '{ eq: USD }',
  neq: '{ neq: USD }',
  in: '{ in: [USD, EUR] }',
  nin: '{ nin: [USD, EUR] }',
  exists: '{ exists: true }',
  gt: '{ gt: 100 } or { gt: "2025-01-01T00:00:00Z" }',
  gte: '{ gte: 100 }',
  lt: '{ lt: 100 }',
  lte: '{ lte: 100 }',
  contains: '{ contains: high-value }',
  startsWith: '{ startsWith: "https://" }',
};

/** `where` -> AND list of conditions. Throws a JourneyError (CAIRN_E_JOURNEY_BAD_CONDITION) when invalid. */
export function normalizeWhere(where: Record<string, unknown> | undefined): Condition[] {
  if (where === undefined) return [];
  const { conditions, problems } = parseWhere(where);
  if (problems.length > 0) {
    const issues = problems.map((p) => ({
      code: p.code,
      severity: 'error' as const,
      path: p.at.join('.'),
      message: p.message,
      hint: p.hint,
    }));
    throw new JourneyError(
      `invalid condition: ${issues.map((i) => i.message).join('; ')}`,
      issues,
      JourneyCodes.BAD_CONDITION,
    );
  }
  return conditions;
}

/** Reads `a.b.c` from nested objects (numeric segments index arrays); undefined when absent. */
export function readPath(obj: unknown, dottedPath: string): unknown {
  let current: unknown = obj;
  for (const segment of dottedPath.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (typeof current === 'object' && current !== null && !Array.isArray(current)) {
      current = Object.hasOwn(current, segment) ? (current as Record<string, unknown>)[segment] : undefined;
    } else return undefined;
  }
  return current;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch millis of an ISO-8601 date string, undefined for anything else. */
export function parseInstant(value: string): number | undefined {
  if (!ISO_DATE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Orders two operands: numbers as numbers, ISO dates as instants; undefined when not comparable. */
export function compareOperands(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const x = parseInstant(a);
    const y = parseInstant(b);
    if (x !== undefined && y !== undefined) return x - y;
  }
  return undefined;
}

/** Whether `actual` (undefined: the path is missing) satisfies one operator. */
export function testCondition(op: ConditionOp, actual: unknown, expected: unknown): boolean {
  if (actual === undefined) {
    return op === 'neq' || op === 'nin' || (op === 'exists' && expected === false);
  }
  switch (op) {
    case 'eq':
      return deepEqual(actual, expected);
    case 'neq':
      return !deepEqual(actual, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((x) => deepEqual(actual, x));
    case 'nin':
      return !Array.isArray(expected) || !expected.some((x) => deepEqual(actual, x));
    case 'exists':
      return (actual !== null) === expected;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const order = compareOperands(actual, expected);
      if (order === undefined) return false;
      if (op === 'gt') return order > 0;
      if (op === 'gte') return order >= 0;
      if (op === 'lt') return order < 0;
      return order <= 0;
    }
    case 'contains':
      if (Array.isArray(actual)) return actual.some((x) => deepEqual(x, expected));
      return typeof actual === 'string' && typeof expected === 'string' && actual.includes(expected);
    case 'startsWith':
      return typeof actual === 'string' && typeof expected === 'string' && actual.startsWith(expected);
  }
}

/** True when every condition holds on `root` (an event, or a journey context). */
export function evaluateConditions(conditions: readonly Condition[], root: object): boolean {
  return conditions.every((c) => testCondition(c.op, readPath(root, c.path), c.value));
}

// Whether two condition lists can both hold for one event: hold branches on the same event must
// not (Segment refuses overlapping branches, and so do we). The test is sound for "exclusive":
// when it says two lists exclude each other, no event satisfies both; when unsure, it says
// they overlap, and the author adds a condition that tells them apart.
import { compareOperands, testCondition } from './conditions.js';
import type { Condition } from './types.js';

/** The only values that can satisfy `c`, when they are few enough to list. */
function candidates(c: Condition): unknown[] | undefined {
  if (c.op === 'eq') return [c.value];
  if (c.op === 'in' && Array.isArray(c.value)) return c.value as unknown[];
  if (c.op === 'exists' && c.value === false) return [undefined, null];
  return undefined;
}

type Bound = { value: unknown; open: boolean };
function lower(c: Condition): Bound | undefined {
  if (c.op === 'gt' || c.op === 'gte') return { value: c.value, open: c.op === 'gt' };
  return undefined;
}
function upper(c: Condition): Bound | undefined {
  if (c.op === 'lt' || c.op === 'lte') return { value: c.value, open: c.op === 'lt' };
  return undefined;
}

function rangesDisjoint(lo: Bound, hi: Bound): boolean {
  // A number and a date string never describe the same value.
  if (typeof lo.value !== typeof hi.value) return true;
  const order = compareOperands(lo.value, hi.value);
  if (order === undefined) return false;
  return order > 0 || (order === 0 && (lo.open || hi.open));
}

function contradicts(x: Condition, y: Condition): boolean {
  const xs = candidates(x);
  if (xs) return !xs.some((v) => testCondition(y.op, v, y.value));
  const lo = lower(x);
  const hi = upper(y);
  if (lo && hi) return rangesDisjoint(lo, hi);
  if (x.op === 'startsWith' && y.op === 'startsWith') {
    const a = String(x.value);
    const b = String(y.value);
    return !a.startsWith(b) && !b.startsWith(a);
  }
  return false;
}

/** True when no input can satisfy both lists: some path has conditions that contradict. */
export function conditionsExclusive(a: readonly Condition[], b: readonly Condition[]): boolean {
  return a.some((x) => b.some((y) => x.path === y.path && (contradicts(x, y) || contradicts(y, x))));
}

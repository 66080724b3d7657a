// Content an event may not carry anywhere (any field, any depth, keys and values alike), because
// Cairn could not pass it on unchanged:
// - the key `__proto__`: JSON.parse makes it an ordinary key, but msgpack readers (the MATCH
//   messages) rename it and JavaScript assignment turns it into a prototype change, so it would
//   reach a journey altered or not at all;
// - a lone surrogate (a `\uD800`-`\uDFFF` escape not in a pair): it has no UTF-8 form, so every
//   encoding downstream (msgpack, KV keys, the webhook body) would replace it with U+FFFD, and two
//   different user ids would become one.
// Refused at the edge (HTTP 400, NATS `dlq.ingest`) with a code, as invalid UTF-8 is.
import { EventCodes, type EventProblem } from './errors.js';

export const FORBIDDEN_KEY = '__proto__';

/** A lone surrogate: with the `u` flag a paired one is read as one code point and does not match. */
const LONE_SURROGATE = /\p{Cs}/u;

interface Visit {
  value: unknown;
  key: string | number | undefined;
  parent: Visit | undefined;
}

/** `properties.cart[2]["a b"]`: the path of a visited value, for the producer to find it. */
function pathOf(visit: Visit, last?: string): string {
  const parts: string[] = last === undefined ? [] : [keyText(last)];
  for (let v: Visit | undefined = visit; v?.key !== undefined; v = v.parent) {
    parts.push(typeof v.key === 'number' ? `[${v.key}]` : keyText(v.key));
  }
  return parts
    .reverse()
    .map((p, i) => (i === 0 || p.startsWith('[') ? p : `.${p}`))
    .join('');
}

function keyText(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
}

/**
 * The first forbidden key or lone surrogate in `raw`, or undefined. Iterative (an explicit
 * stack), so no nesting can overflow the call stack; an object seen twice is walked once.
 */
export function contentProblem(raw: unknown): EventProblem | undefined {
  const seen = new Set<object>();
  const stack: Visit[] = [{ value: raw, key: undefined, parent: undefined }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const { value } = visit;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return loneSurrogate(pathOf(visit), 'value');
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: visit });
      continue;
    }
    const keys = Object.keys(value);
    for (const key of keys) {
      if (key === FORBIDDEN_KEY) {
        const field = pathOf(visit, key);
        return {
          code: EventCodes.FORBIDDEN_KEY,
          field,
          reason: `${field}: the key "${FORBIDDEN_KEY}" is not accepted anywhere in an event; rename it`,
        };
      }
      if (LONE_SURROGATE.test(key)) return loneSurrogate(pathOf(visit, key), 'key');
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      stack.push({ value: (value as Record<string, unknown>)[key], key, parent: visit });
    }
  }
  return undefined;
}

function loneSurrogate(field: string, what: 'key' | 'value'): EventProblem {
  return {
    code: EventCodes.LONE_SURROGATE,
    field,
    reason: `${field}: the ${what} holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair), which has no UTF-8 form; send well-formed Unicode`,
  };
}

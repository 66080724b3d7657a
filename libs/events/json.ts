// Bytes in, a JSON value out, or a refusal that says where the text went wrong. Size is checked
// before decoding so that an oversized body costs nothing to refuse.
import { EventCodes, type EventProblem, type JsonPosition } from './errors.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { firstInvalidUtf8 } from './utf8.js';

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is refused rather than silently turned into U+FFFD.
const decoder = new TextDecoder('utf-8', { fatal: true });
const BOM = [0xef, 0xbb, 0xbf];

export type JsonResult = { ok: true; value: unknown } | { ok: false; error: EventProblem };

/** How deep an event may nest objects and arrays; the event object itself is level 1. */
export const MAX_EVENT_DEPTH = 32;

/**
 * True when `value` nests objects or arrays more than `maxDepth` levels deep (`value` itself,
 * when an object or array, is level 1). Iterative, with an explicit stack, so that no input can
 * overflow the call stack; it stops at the first value too deep (a cycle is too deep too).
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  // An object reached twice (only a programmatic caller shares one) is walked again only from
  // deeper than before: at most maxDepth walks of each, never an exponential number.
  const deepest = new Map<object, number>();
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (typeof top.value !== 'object' || top.value === null) continue;
    if (top.depth > maxDepth) return true;
    if ((deepest.get(top.value) ?? 0) >= top.depth) continue;
    deepest.set(top.value, top.depth);
    const children = Array.isArray(top.value) ? top.value : Object.values(top.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: top.depth + 1 });
    }
  }
  return false;
}

/** The refusal of an event nested deeper than `maxDepth`. */
export function tooDeep(maxDepth: number): EventProblem {
  return {
    code: EventCodes.TOO_DEEP,
    reason: `the event nests objects or arrays more than ${maxDepth} levels deep; flatten it`,
  };
}

/** UTF-8 size of an event as compact JSON: what the 32 KB per-event limit measures.
 * Throws a TypeError for what JSON cannot hold (BigInt, cycles). JSON.stringify recurses:
 * check the depth first (nestsDeeperThan). */
export function eventSizeBytes(raw: unknown): number {
  const text = JSON.stringify(raw) as string | undefined;
  return text === undefined ? 0 : encoder.encode(text).byteLength;
}

export function tooLarge(size: number, maxBytes: number): EventProblem {
  return {
    code: EventCodes.TOO_LARGE,
    reason: `the event is ${size} bytes; the limit is ${maxBytes} bytes`,
  };
}

function positionOf(text: string, index: number, bomBytes: number): JsonPosition {
  const before = text.slice(0, index);
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    line: before.split('\n').length,
    column: index - lineStart + 1,
    offset: bomBytes + encoder.encode(before).byteLength,
  };
}

/** The refusal of a body that is not UTF-8, with where its first invalid sequence starts. */
function invalidUtf8(bytes: Uint8Array): EventProblem {
  /* c8 ignore next -- the decoder refused the bytes, so the scan finds the sequence it refused */
  const offset = firstInvalidUtf8(bytes) ?? bytes.byteLength;
  // The bytes before the offset are valid: decoding them gives the line and column.
  const before = decoder.decode(bytes.subarray(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  const at: JsonPosition = {
    line: before.split('\n').length,
    column: before.length - lineStart + 1,
    offset,
  };
  return {
    code: EventCodes.NOT_JSON,
    reason: `the body is not valid UTF-8 at line ${at.line}, column ${at.column} (byte ${at.offset})`,
    at,
  };
}

/**
 * Parses a message body (NATS payload or HTTP body). With `maxBytes`, a larger body is refused
 * before it is decoded (for one event use the per-event limit; for `/v1/batch`, the batch limit).
 */
export function parseEventJson(bytes: Uint8Array, opts: { maxBytes?: number } = {}): JsonResult {
  if (opts.maxBytes !== undefined && bytes.byteLength > opts.maxBytes) {
    return { ok: false, error: tooLarge(bytes.byteLength, opts.maxBytes) };
  }
  let text: string;
  try {
    text = decoder.decode(bytes); // also drops a leading byte order mark
  } catch {
    return { ok: false, error: invalidUtf8(bytes) };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const found = findJsonSyntaxError(text);
    /* c8 ignore next 4 -- the scanner implements the same grammar; this is a safety net only */
    if (found === undefined) {
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, error: { code: EventCodes.NOT_JSON, reason: `invalid JSON: ${message}` } };
    }
    const bomBytes = BOM.every((b, i) => bytes[i] === b) ? BOM.length : 0;
    const at = positionOf(text, found.index, bomBytes);
    return {
      ok: false,
      error: {
        code: EventCodes.NOT_JSON,
        reason: `invalid JSON at line ${at.line}, column ${at.column} (byte ${at.offset}): ${found.message}`,
        at,
      },
    };
  }
}

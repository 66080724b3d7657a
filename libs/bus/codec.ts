// Versioned msgpack envelopes (STYLE.md rule 11): every message has `v` and a zod schema, and a
// decode that does not fit the schema is a typed error, never a half-read object.
//
// Messages Cairn wrote itself are trusted on the hot path: a message may carry a `shape`, a
// hand-written check of the same rules as its schema, made of plain `typeof` tests. A decoded
// value that passes it is returned as is (zod costs several times the check per message); one
// that fails it goes through the schema, which gives the error its reason (or, should the check
// be stricter than the schema somewhere, the value). test/unit/bus/trusted-shape.test.ts checks
// each shape against its schema on mutated messages: a shape never accepts what the schema
// refuses.
import { Packr, type Options } from 'msgpackr';
import type { z } from 'zod';

import { BusCodes, BusError } from './errors.js';

// Plain maps, no records extension: other languages and the CLI must read these bytes. An
// `undefined` member is left out, as JSON would (msgpackr would otherwise write it as an
// extension that other readers lack).
const packr = new Packr({ useRecords: false, moreTypes: false, skipValues: [undefined] } as Options);

export interface MessageCodec<T> {
  name: string;
  encode(value: T): Uint8Array;
  /** Throws BusError CAIRN_E_BUS_DECODE naming the message and the reason. */
  decode(bytes: Uint8Array): T;
}

/** A fast structural check: true only for a value the message's schema accepts. */
export type Shape = (value: unknown) => boolean;

export function defineMessage<S extends z.ZodType<{ v: number }>>(
  name: string,
  schema: S,
  shape?: Shape,
): MessageCodec<z.output<S>> {
  return {
    name,
    encode(value) {
      return packr.pack(value);
    },
    decode(bytes) {
      let raw: unknown;
      try {
        raw = packr.unpack(bytes);
      } catch (err) {
        throw new BusError(BusCodes.DECODE, `${name}: not msgpack (${(err as Error).message})`, {
          cause: err,
        });
      }
      if (shape?.(raw)) return raw as z.output<S>;
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const reason = parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        throw new BusError(BusCodes.DECODE, `${name}: ${reason}`, { cause: parsed.error });
      }
      return parsed.data;
    },
  };
}

// The building blocks of shapes. A plain object is what msgpack decodes a map to (z.object and
// z.record refuse arrays, dates and maps; anything but a plain object goes to the schema).
export const isObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};
export const isString = (v: unknown): v is string => typeof v === 'string';
/** z.number() refuses NaN and, in zod 4, ±Infinity. */
export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const optional =
  (check: (v: unknown) => boolean) =>
  (v: unknown): boolean =>
    v === undefined || check(v);

// Versioned msgpack envelopes (STYLE.md rule 11): every message has `v` and a zod schema, and a
// decode that does not fit the schema is a typed error, never a half-read object.
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

export function defineMessage<S extends z.ZodType<{ v: number }>>(
  name: string,
  schema: S,
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

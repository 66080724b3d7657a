// State writes are compare-and-set on the KV revision (STYLE.md rule 7): `create` for the first
// write, `update(key, value, revision)` after; a conflict reloads and decides again.
import { createHash } from 'node:crypto';

import { JetStreamApiError } from '@nats-io/jetstream';
import type { KvStore } from './lean.js';
import type { Counter } from 'prom-client';
import { ZodError } from 'zod';

import { BusCodes, BusError, CAS_CONFLICT_CODES } from './errors.js';

export interface ValueCodec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export interface CasOptions<T> {
  codec: ValueCodec<T>;
  /** Attempts before CAIRN_E_BUS_CAS_EXHAUSTED (default 5). */
  maxAttempts?: number;
  /** Where conflicts are counted (cairn_kv_cas_conflicts_total). */
  metrics?: { kvCasConflicts: Counter<'bucket'> };
  /** The bucket label; read from the KV handle when omitted. */
  bucket?: string;
}

export interface CasResult<T> {
  /** The value now stored (or the current one when fn chose not to write). */
  value: T | undefined;
  /** Its revision; undefined when the key does not exist. */
  revision: number | undefined;
  written: boolean;
  attempts: number;
}

/** Decide is called with the current value and revision; returning undefined writes nothing. */
export type CasDecide<T> = (current: T | undefined, revision: number | undefined) => T | undefined;

export async function casUpdate<T>(
  kv: KvStore,
  key: string,
  fn: CasDecide<T>,
  opts: CasOptions<T>,
): Promise<CasResult<T>> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const bucket = opts.bucket ?? (kv as { bucket?: string }).bucket ?? 'unknown';
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const entry = await kv.get(key);
    const live = entry && entry.operation === 'PUT' ? entry : undefined;
    const current = live ? decodeValue(opts.codec, bucket, key, live.value) : undefined;
    const revision = live?.revision;
    const next = fn(current, revision);
    if (next === undefined) return { value: current, revision, written: false, attempts: attempt };
    const bytes = opts.codec.encode(next);
    try {
      const newRevision =
        revision === undefined ? await kv.create(key, bytes) : await kv.update(key, bytes, revision);
      return { value: next, revision: newRevision, written: true, attempts: attempt };
    } catch (err) {
      if (!isCasConflict(err)) throw err;
      lastError = err;
      opts.metrics?.kvCasConflicts.inc({ bucket });
    }
  }
  throw new BusError(
    BusCodes.CAS_EXHAUSTED,
    `${bucket}/${key}: still conflicting after ${maxAttempts} attempts; the key is updated too often concurrently`,
    { cause: lastError },
  );
}

/**
 * A stored value decoded, or CAIRN_E_BUS_VALUE_INVALID naming `<bucket>/<key>` and what is wrong
 * with it (not JSON, not msgpack, which fields do not fit): a corrupt or foreign value is reported
 * for its key alone, never as a raw schema dump, and never stops the readers of other keys.
 */
export function decodeValue<T>(codec: ValueCodec<T>, bucket: string, key: string, bytes: Uint8Array): T {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new BusError(BusCodes.VALUE_INVALID, `${bucket}/${key}: ${describeInvalid(err)}`, { cause: err });
  }
}

function describeInvalid(err: unknown): string {
  if (err instanceof ZodError) {
    const issues = err.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'} ${i.message}`);
    const more = err.issues.length > 5 ? ` (and ${err.issues.length - 5} more)` : '';
    return `the stored value does not fit its schema: ${issues.join('; ')}${more}`;
  }
  if (err instanceof SyntaxError) return 'the stored value is not JSON';
  if (err instanceof BusError) return err.message.replace(`${err.code}: `, '');
  return (err as Error).message;
}

/** Wrong-last-sequence conflicts (10071; 10164 and the transient 10163 from 2.11). */
export function isCasConflict(err: unknown): boolean {
  const cause = err instanceof Error && !(err instanceof JetStreamApiError) ? err.cause : err;
  return (
    (err instanceof JetStreamApiError && CAS_CONFLICT_CODES.has(err.code)) ||
    (cause instanceof JetStreamApiError && CAS_CONFLICT_CODES.has(cause.code))
  );
}

/**
 * The longest key token kept readable: base64url of up to 768 UTF-8 bytes. Every id ingest
 * accepts (at most 256 characters, libs/events ID_MAX_LENGTH) and every uniqueBy value an entry
 * accepts (150 characters) fits, so their keys are plain base64url, as they always were.
 */
export const MAX_KEY_TOKEN_LENGTH = 1_024;

/**
 * A KV-safe key token from an arbitrary string (user ids, unique-id values): base64url, no
 * padding. A longer encoding becomes `=` + the base64url SHA-256 of the string (44 characters):
 * base64url never writes `=`, so the two forms cannot collide, and a key (which a KV read puts in
 * a request subject) stays far below the server's 4096-byte control line.
 */
export function encodeKey(raw: string): string {
  const encoded = Buffer.from(raw, 'utf8').toString('base64url');
  if (encoded.length <= MAX_KEY_TOKEN_LENGTH) return encoded;
  return `=${createHash('sha256').update(raw, 'utf8').digest('base64url')}`;
}

/** The string of a key token; undefined for a hashed one (`=`…), which cannot be reversed. */
export function decodeKey(encoded: string): string | undefined {
  if (encoded.startsWith('=')) return undefined;
  return Buffer.from(encoded, 'base64url').toString('utf8');
}

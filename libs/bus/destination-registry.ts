// Destinations: the versioned KV value (bucket `destinations`, key = id), the file form an
// operator writes (`cairn destination put`), and a watched in-memory cache so that the sender
// does not read KV once per job.
import type { KV, KvEntry } from '@nats-io/kv';
import type { Logger } from 'pino';
import { z } from 'zod';

import { parseDurationMs } from '../config/index.js';
import type { Bus } from './connection.js';
import { BUCKETS } from './topology.js';

export const DESTINATION_INVALID = 'CAIRN_E_DESTINATION_INVALID';

export interface DestinationIssue {
  path: string;
  message: string;
}

/** A destination value or file that does not fit the schema; `issues` name each field. */
export class DestinationError extends Error {
  override readonly name = 'DestinationError';
  readonly code = DESTINATION_INVALID;
  readonly issues: DestinationIssue[];

  constructor(issues: DestinationIssue[], options?: ErrorOptions) {
    super(`${DESTINATION_INVALID}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, options);
    this.issues = issues;
  }
}

/** KV keys allow `[-/_=.a-zA-Z0-9]`; ids are names an operator types. */
const ID = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: 'must be 1-64 of a-z, 0-9, - and _, starting alphanumeric' });

const httpUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'must be an http:// or https:// URL' },
);

const secret = z.string().refine(
  (s) => {
    if (!s.startsWith('whsec_')) return false;
    const b64 = s.slice('whsec_'.length);
    return b64.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64);
  },
  { error: 'must be whsec_ followed by base64 (Standard Webhooks)' },
);

const headers = z.record(
  z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'is not a valid header name' }),
  z.string().refine((v) => !/[\r\n]/.test(v), { error: 'must not contain a line break' }),
);

const subject = z
  .string()
  .regex(/^[^\s.*>]+(\.[^\s.*>]+)*$/, { error: 'must be a NATS subject without wildcards' });

const MAX_TIMEOUT_MS = 300_000;
const timeoutMs = z.number().int().min(100).max(MAX_TIMEOUT_MS);

export const WebhookDestinationSchema = z.object({
  v: z.literal(1),
  id: ID,
  type: z.literal('webhook'),
  url: httpUrl,
  secret: secret.optional(),
  headers: headers.optional(),
  timeoutMs: timeoutMs.optional(),
});

export const NatsDestinationSchema = z.object({
  v: z.literal(1),
  id: ID,
  type: z.literal('nats'),
  subject,
});

/** The KV value (STYLE.md rule 11: versioned, with a schema). */
export const DestinationSchema = z.discriminatedUnion('type', [
  WebhookDestinationSchema,
  NatsDestinationSchema,
]);

export type WebhookDestination = z.output<typeof WebhookDestinationSchema>;
export type NatsDestination = z.output<typeof NatsDestinationSchema>;
export type Destination = z.output<typeof DestinationSchema>;

/** `timeout: 5s` or a number of seconds. */
const fileTimeout = z.union([z.number().positive(), z.string()]).transform((raw, ctx) => {
  const ms = typeof raw === 'number' ? Math.round(raw * 1_000) : parseDurationMs(raw);
  if (ms === undefined || ms < 100 || ms > MAX_TIMEOUT_MS) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration from 100ms to 5m, e.g. 5s, or seconds' });
    return z.NEVER;
  }
  return ms;
});

const DestinationFileSchema = z.discriminatedUnion('type', [
  z.strictObject({
    id: ID,
    type: z.literal('webhook'),
    url: httpUrl,
    secret: secret.optional(),
    headers: headers.optional(),
    timeout: fileTimeout.optional(),
  }),
  z.strictObject({ id: ID, type: z.literal('nats'), subject }),
]);

function issuesOf(error: z.ZodError): DestinationIssue[] {
  return error.issues.map((i) => {
    const path = i.path.map(String).join('.') || 'type';
    let message = i.message;
    if (path === 'type' && i.code !== 'unrecognized_keys') message = 'must be webhook or nats';
    if (i.code === 'unrecognized_keys') message = `unknown key(s) ${i.keys.join(', ')}`;
    return { path, message };
  });
}

/** The file form (YAML/JSON already parsed) -> the KV value; throws DestinationError. */
export function parseDestinationFile(obj: unknown): Destination {
  const parsed = DestinationFileSchema.safeParse(obj);
  if (!parsed.success) throw new DestinationError(issuesOf(parsed.error), { cause: parsed.error });
  const f = parsed.data;
  if (f.type === 'nats') return { v: 1, id: f.id, type: 'nats', subject: f.subject };
  const out: WebhookDestination = { v: 1, id: f.id, type: 'webhook', url: f.url };
  if (f.secret !== undefined) out.secret = f.secret;
  if (f.headers !== undefined) out.headers = f.headers;
  if (f.timeout !== undefined) out.timeoutMs = f.timeout;
  return out;
}

/** A stored value -> Destination; throws DestinationError. */
export function decodeDestination(bytes: Uint8Array): Destination {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new DestinationError([{ path: '(root)', message: 'is not JSON' }], { cause: err });
  }
  const parsed = DestinationSchema.safeParse(raw);
  if (!parsed.success) throw new DestinationError(issuesOf(parsed.error), { cause: parsed.error });
  return parsed.data;
}

function encodeDestination(dest: Destination): Uint8Array {
  const parsed = DestinationSchema.safeParse(dest);
  if (!parsed.success) throw new DestinationError(issuesOf(parsed.error), { cause: parsed.error });
  return new TextEncoder().encode(JSON.stringify(parsed.data));
}

const bucket = (bus: Bus): Promise<KV> => bus.kv(BUCKETS.destinations);

/** Validates and stores (last write wins: a destination is configuration, not state). */
export async function putDestination(bus: Bus, dest: Destination): Promise<number> {
  const bytes = encodeDestination(dest);
  return (await bucket(bus)).put(dest.id, bytes);
}

export async function getDestination(bus: Bus, id: string): Promise<Destination | undefined> {
  const entry = await (await bucket(bus)).get(id);
  return live(entry) ? decodeDestination(entry.value) : undefined;
}

export async function deleteDestination(bus: Bus, id: string): Promise<void> {
  await (await bucket(bus)).delete(id);
}

/** Every stored destination, by id. A value that no longer decodes is skipped. */
export async function listDestinations(bus: Bus): Promise<Destination[]> {
  const kv = await bucket(bus);
  const out: Destination[] = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (!live(entry)) continue;
    try {
      out.push(decodeDestination(entry.value));
    } catch {
      // Listed by `cairn destination list` as it is: skip, the cache logs it.
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function live(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === 'PUT';
}

/**
 * The destinations in memory, kept current by a KV watch. A miss (a destination put after the
 * watch started but not seen yet) reads KV once.
 */
export class DestinationCache {
  private readonly byId = new Map<string, Destination>();
  private stopWatch: (() => void) | undefined;
  private watching: Promise<void> | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  /** Starts the watch; resolves once it is open. */
  async start(): Promise<void> {
    const kv = await bucket(this.bus);
    const iter = await kv.watch();
    this.stopWatch = () => iter.stop();
    this.watching = (async () => {
      for await (const e of iter) this.apply(e);
    })().catch((err: unknown) => this.log.error({ err }, 'destination watch ended'));
  }

  async get(id: string): Promise<Destination | undefined> {
    const hit = this.byId.get(id);
    if (hit) return hit;
    const dest = await getDestination(this.bus, id);
    // The watch may have applied a newer value meanwhile: it wins.
    if (dest && !this.byId.has(id)) this.byId.set(id, dest);
    return this.byId.get(id) ?? dest;
  }

  get size(): number {
    return this.byId.size;
  }

  async stop(): Promise<void> {
    this.stopWatch?.();
    await this.watching;
  }

  private apply(e: KvEntry): void {
    if (e.operation !== 'PUT') {
      this.byId.delete(e.key);
      return;
    }
    try {
      this.byId.set(e.key, decodeDestination(e.value));
    } catch (err) {
      this.byId.delete(e.key);
      this.log.error({ err, destination: e.key }, 'stored destination is invalid; ignored');
    }
  }
}

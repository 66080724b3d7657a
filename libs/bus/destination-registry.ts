// Destinations: the versioned KV value (bucket `destinations`, key = id), the file form an
// operator writes (`cairn destination put`), and a watched in-memory cache so that the sender
// does not read KV once per job.
import type { KV, KvEntry } from '@nats-io/kv';
import type { Logger } from 'pino';
import { z } from 'zod';

import { parseDurationMs } from '../config/index.js';
import type { Bus } from './connection.js';
import { closest } from '../journey/index.js';
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

  /** `key`: the stored value's KV key, named in the message (`destinations/<key>: …`). */
  constructor(issues: DestinationIssue[], options?: ErrorOptions & { key?: string }) {
    const where = options?.key === undefined ? '' : `${BUCKETS.destinations}/${options.key}: `;
    super(
      `${DESTINATION_INVALID}: ${where}${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      options,
    );
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

/** Secrets at once (rotation: old and new both sign for a while). */
export const MAX_SECRETS = 5;
/** Retries run for this long from the first attempt unless the destination says otherwise. */
export const DEFAULT_RETRY_BUDGET_MS = 4 * 3_600_000;
/** The retry budget may not outlive stream DELIVER (7 d) nor be shorter than a second. */
const MIN_RETRY_BUDGET_MS = 1_000;
const MAX_RETRY_BUDGET_MS = 3 * 86_400_000;
export const MAX_DESTINATION_CONCURRENCY = 1_000;
const MIN_COOLDOWN_MS = 100;
const MAX_COOLDOWN_MS = 3_600_000;

/** When the circuit opens (failure rate over the last attempts) and how long it stays open. */
export const CircuitSchema = z.object({
  /** Failure rate (0-1] over the recent attempts that opens the circuit. */
  failureRate: z.number().gt(0).max(1).optional(),
  /** Attempts in the window before the rate counts. */
  minRequests: z.number().int().min(1).max(1_000).optional(),
  /** Open this long, then let one probe through. */
  cooldownMs: z.number().int().min(MIN_COOLDOWN_MS).max(MAX_COOLDOWN_MS).optional(),
});
export type CircuitSettings = z.output<typeof CircuitSchema>;

/** Set by the sender when a destination answered 410 Gone; `cairn destination put` clears it. */
export const DisabledSchema = z.object({ at: z.number(), reason: z.string() });

/** Delivery settings common to every destination type. */
const deliveryFields = {
  /** Retry for this long from the first attempt (default 4 h). */
  retryBudgetMs: z.number().int().min(MIN_RETRY_BUDGET_MS).max(MAX_RETRY_BUDGET_MS).optional(),
  /** Attempts in flight at once, per sender process (default 16). */
  concurrency: z.number().int().min(1).max(MAX_DESTINATION_CONCURRENCY).optional(),
  /** Attempts started per second, per sender process (default: unlimited). */
  rateLimit: z.number().gt(0).max(100_000).optional(),
  circuit: CircuitSchema.optional(),
  disabled: DisabledSchema.optional(),
};

export const WebhookDestinationSchema = z.object({
  v: z.literal(1),
  id: ID,
  type: z.literal('webhook'),
  url: httpUrl,
  secret: secret.optional(),
  /** Every secret signs each request (rotation); `secret` is the older single form. */
  secrets: z.array(secret).min(1).max(MAX_SECRETS).optional(),
  headers: headers.optional(),
  timeoutMs: timeoutMs.optional(),
  ...deliveryFields,
});

export const NatsDestinationSchema = z.object({
  v: z.literal(1),
  id: ID,
  type: z.literal('nats'),
  subject,
  ...deliveryFields,
});

/** The secrets that sign a webhook's requests: `secrets`, else `secret`, else none. */
export function signingSecrets(dest: WebhookDestination): string[] {
  if (dest.secrets !== undefined) return dest.secrets;
  return dest.secret === undefined ? [] : [dest.secret];
}

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

/** A duration (`4h`, `30s`) or a number of seconds, within [minMs, maxMs]. */
const fileDuration = (minMs: number, maxMs: number, hint: string) =>
  z.union([z.number().positive(), z.string()]).transform((raw, ctx) => {
    const ms = typeof raw === 'number' ? Math.round(raw * 1_000) : parseDurationMs(raw);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: hint });
      return z.NEVER;
    }
    return ms;
  });

const fileDelivery = {
  retryBudget: fileDuration(
    MIN_RETRY_BUDGET_MS,
    MAX_RETRY_BUDGET_MS,
    'must be a duration from 1s to 3d, e.g. 4h',
  ).optional(),
  concurrency: z.number().int().min(1).max(MAX_DESTINATION_CONCURRENCY).optional(),
  rateLimit: z.number().gt(0).max(100_000).optional(),
  circuit: z
    .strictObject({
      failureRate: z.number().gt(0).max(1).optional(),
      minRequests: z.number().int().min(1).max(1_000).optional(),
      cooldown: fileDuration(
        MIN_COOLDOWN_MS,
        MAX_COOLDOWN_MS,
        'must be a duration from 100ms to 1h',
      ).optional(),
    })
    .optional(),
};

const DestinationFileSchema = z.discriminatedUnion('type', [
  z.strictObject({
    id: ID,
    type: z.literal('webhook'),
    url: httpUrl,
    secret: secret.optional(),
    secrets: z.array(secret).min(1).max(MAX_SECRETS).optional(),
    headers: headers.optional(),
    timeout: fileTimeout.optional(),
    ...fileDelivery,
  }),
  z.strictObject({ id: ID, type: z.literal('nats'), subject, ...fileDelivery }),
]);

/** The delivery settings of a destination (retry budget, isolation), all optional. */
export type DeliverySettings = Pick<
  WebhookDestination,
  'retryBudgetMs' | 'concurrency' | 'rateLimit' | 'circuit' | 'disabled'
>;

type FileDelivery = {
  retryBudget?: number | undefined;
  concurrency?: number | undefined;
  rateLimit?: number | undefined;
  circuit?:
    | { failureRate?: number | undefined; minRequests?: number | undefined; cooldown?: number | undefined }
    | undefined;
};

function deliverySettingsOf(f: FileDelivery): DeliverySettings {
  const out: DeliverySettings = {};
  if (f.retryBudget !== undefined) out.retryBudgetMs = f.retryBudget;
  if (f.concurrency !== undefined) out.concurrency = f.concurrency;
  if (f.rateLimit !== undefined) out.rateLimit = f.rateLimit;
  if (f.circuit !== undefined) {
    const c: CircuitSettings = {};
    if (f.circuit.failureRate !== undefined) c.failureRate = f.circuit.failureRate;
    if (f.circuit.minRequests !== undefined) c.minRequests = f.circuit.minRequests;
    if (f.circuit.cooldown !== undefined) c.cooldownMs = f.circuit.cooldown;
    out.circuit = c;
  }
  return out;
}

const FILE_KEYS = {
  webhook: ['id', 'type', 'url', 'secret', 'secrets', 'headers', 'timeout', ...Object.keys(fileDelivery)],
  nats: ['id', 'type', 'subject', ...Object.keys(fileDelivery)],
  circuit: ['failureRate', 'minRequests', 'cooldown'],
};

/** The keys a file may have at `path` (the top level of its type, or `circuit`). */
function knownKeys(path: PropertyKey[], input: unknown): string[] {
  if (path.at(-1) === 'circuit') return FILE_KEYS.circuit;
  const type = (input as { type?: unknown } | null)?.type;
  return type === 'nats' ? FILE_KEYS.nats : FILE_KEYS.webhook;
}

function issuesOf(error: z.ZodError, input?: unknown): DestinationIssue[] {
  return error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      // One issue per key, at the key's own path, with the closest known key.
      const known = knownKeys(i.path, input);
      return i.keys.map((key) => {
        const guess = closest(key, known);
        return {
          path: [...i.path.map(String), key].join('.'),
          message: `unknown key '${key}' (${guess ? `did you mean '${guess}'? ` : ''}known keys: ${known.join(', ')})`,
        };
      });
    }
    const path = i.path.map(String).join('.') || 'type';
    const message = path === 'type' ? 'must be webhook or nats' : i.message;
    return [{ path, message }];
  });
}

/** The file form (YAML/JSON already parsed) -> the KV value; throws DestinationError. */
export function parseDestinationFile(obj: unknown): Destination {
  const parsed = DestinationFileSchema.safeParse(obj);
  if (!parsed.success) throw new DestinationError(issuesOf(parsed.error, obj), { cause: parsed.error });
  const f = parsed.data;
  if (f.type === 'nats') {
    return { v: 1, id: f.id, type: 'nats', subject: f.subject, ...deliverySettingsOf(f) };
  }
  if (f.secret !== undefined && f.secrets !== undefined) {
    throw new DestinationError([{ path: 'secrets', message: 'give either secret or secrets, not both' }]);
  }
  const out: WebhookDestination = { v: 1, id: f.id, type: 'webhook', url: f.url, ...deliverySettingsOf(f) };
  if (f.secret !== undefined) out.secret = f.secret;
  if (f.secrets !== undefined) out.secrets = f.secrets;
  if (f.headers !== undefined) out.headers = f.headers;
  if (f.timeout !== undefined) out.timeoutMs = f.timeout;
  return out;
}

/** A stored value -> Destination; throws DestinationError (naming `key` when given). */
export function decodeDestination(bytes: Uint8Array, key?: string): Destination {
  const at = key === undefined ? {} : { key };
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new DestinationError([{ path: '(root)', message: 'is not JSON' }], { cause: err, ...at });
  }
  const parsed = DestinationSchema.safeParse(raw);
  if (!parsed.success) throw new DestinationError(issuesOf(parsed.error), { cause: parsed.error, ...at });
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
  return live(entry) ? decodeDestination(entry.value, id) : undefined;
}

/**
 * Marks a destination disabled (the sender does so on 410 Gone): CAS on the KV revision, so that
 * an operator's concurrent `put` (which re-enables it) is never overwritten. False when it is
 * gone, already disabled, or changed meanwhile.
 */
export async function disableDestination(bus: Bus, id: string, reason: string, at: number): Promise<boolean> {
  const kv = await bucket(bus);
  const entry = await kv.get(id);
  if (!live(entry)) return false;
  const dest = decodeDestination(entry.value, id);
  if (dest.disabled !== undefined) return false;
  try {
    await kv.update(id, encodeDestination({ ...dest, disabled: { at, reason } }), entry.revision);
    return true;
  } catch {
    return false;
  }
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
      this.byId.set(e.key, decodeDestination(e.value, e.key));
    } catch (err) {
      this.byId.delete(e.key);
      this.log.error({ err, destination: e.key }, 'stored destination is invalid; ignored');
    }
  }
}

// Journeys in KV `journeys` (DESIGN.md §3): a head per journey (`<id>`) naming its versions, the
// active one and the shadow one (decided beside the active one, never sending), and immutable
// versions (`<id>.v<n>`, written once with `create`). The head is only ever changed by
// compare-and-set (STYLE.md rule 7).
import type { KV, KvEntry } from '@nats-io/kv';
import { z } from 'zod';

import { journeyHash, type JourneyDocument } from '../journey/index.js';
import type { Bus } from './connection.js';
import { BusError } from './errors.js';
import { casUpdate, decodeValue, isCasConflict, type ValueCodec } from './kv-cas.js';
import { BUCKETS } from './topology.js';

export const JOURNEY_NOT_FOUND = 'CAIRN_E_JOURNEY_NOT_FOUND';
export const JOURNEY_NOT_ACTIVE = 'CAIRN_E_JOURNEY_NOT_ACTIVE';
export const JOURNEY_VERSION_EXHAUSTED = 'CAIRN_E_JOURNEY_VERSION_EXHAUSTED';
export const JOURNEY_NO_SHADOW = 'CAIRN_E_JOURNEY_NO_SHADOW';
export type JourneyRegistryCode =
  | typeof JOURNEY_NOT_FOUND
  | typeof JOURNEY_NOT_ACTIVE
  | typeof JOURNEY_VERSION_EXHAUSTED
  | typeof JOURNEY_NO_SHADOW;

export class JourneyRegistryError extends Error {
  override readonly name = 'JourneyRegistryError';
  constructor(
    readonly code: JourneyRegistryCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${message}`, options);
  }
}

/** A stored status string is never renamed (STYLE.md rule 11). `shadow`: decided beside the
 * active version on every input, its sends journaled (`would_send`), never delivered. */
export const VersionStatusSchema = z.enum(['active', 'draining', 'archived', 'shadow']);
export type VersionStatus = z.output<typeof VersionStatusSchema>;

export const JourneyHeadSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  latest: z.number().int().nonnegative(),
  active: z.number().int().positive().nullable(),
  /** The shadow version (absent in heads written before shadows existed: none). */
  shadow: z.number().int().positive().nullable().optional(),
  versions: z.record(z.string(), VersionStatusSchema),
});
export type JourneyHead = z.output<typeof JourneyHeadSchema>;

const documentSchema = z.custom<JourneyDocument>(
  (d) =>
    typeof d === 'object' &&
    d !== null &&
    typeof (d as { id?: unknown }).id === 'string' &&
    Array.isArray((d as { steps?: unknown }).steps),
  { message: 'is not a journey document' },
);

export const JourneyVersionSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  version: z.number().int().positive(),
  hash: z.string(),
  publishedAt: z.number(),
  document: documentSchema,
  /** The text as the author wrote it (YAML or JSON), for `cairn journey show`; absent in older versions. */
  source: z.string().optional(),
});
export type JourneyVersion = z.output<typeof JourneyVersionSchema>;

function jsonCodec<T>(schema: z.ZodType<T>): ValueCodec<T> {
  return {
    encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
    decode: (bytes) => schema.parse(JSON.parse(new TextDecoder().decode(bytes))),
  };
}

export const journeyHeadCodec: ValueCodec<JourneyHead> = jsonCodec(JourneyHeadSchema);
export const journeyVersionCodec: ValueCodec<JourneyVersion> = jsonCodec(JourneyVersionSchema);

export const journeyVersionKey = (id: string, version: number): string => `${id}.v${version}`;

/** Journey ids are KV-safe and contain no `.`, so a head key is one token. */
const isHeadKey = (key: string): boolean => !key.includes('.');

const live = (entry: KvEntry | null): entry is KvEntry => entry !== null && entry.operation === 'PUT';

async function bucket(bus: Bus): Promise<KV> {
  return bus.kv(BUCKETS.journeys);
}

export interface PublishOptions {
  /** What becomes of the version active until now (default `drain`: its instances finish). */
  previous?: 'drain' | 'archive';
  /** Publish time (default Date.now()). */
  now?: number;
  /** The document's text as written, kept with the version. */
  source?: string;
  /** Make no version when the active one has the same content (hash); the result says `unchanged`. */
  ifChanged?: boolean;
}

export interface PublishResult {
  id: string;
  version: number;
  /** The active version has this content already (same hash): no version was made. */
  unchanged?: true;
  previous?: { version: number; status: VersionStatus };
}

/**
 * Stores `doc` as version latest+1 (immutable, `kv.create`) and makes it the active one; the
 * previous active version drains (default) or is archived.
 */
export async function publishJourneyVersion(
  bus: Bus,
  doc: JourneyDocument,
  opts: PublishOptions = {},
): Promise<PublishResult> {
  const kv = await bucket(bus);
  const previousStatus: VersionStatus = opts.previous === 'archive' ? 'archived' : 'draining';
  const head = await readJourneyHead(bus, doc.id);
  // The same content as the active version: nothing to publish.
  if (opts.ifChanged && head?.active != null) {
    const active = await readJourneyVersion(bus, doc.id, head.active);
    if (active?.hash === journeyHash(doc)) return { id: doc.id, version: head.active, unchanged: true };
  }
  const version = await claimVersion(kv, doc, (head?.latest ?? 0) + 1, opts);
  let previous: PublishResult['previous'];
  await casUpdate<JourneyHead>(
    kv,
    doc.id,
    (current) => {
      previous = undefined;
      const versions = { ...(current?.versions ?? {}) };
      const active = current?.active ?? null;
      if (active !== null && active > version) {
        // A newer version won the race meanwhile: this one is superseded at once.
        versions[String(version)] = previousStatus;
        return {
          ...current,
          v: 1,
          id: doc.id,
          latest: Math.max(current?.latest ?? 0, version),
          active,
          versions,
        };
      }
      if (active !== null) {
        versions[String(active)] = previousStatus;
        previous = { version: active, status: previousStatus };
      }
      versions[String(version)] = 'active';
      // A shadow carries on beside the new active version.
      return {
        ...current,
        v: 1,
        id: doc.id,
        latest: Math.max(current?.latest ?? 0, version),
        active: version,
        versions,
      };
    },
    { codec: journeyHeadCodec, bucket: BUCKETS.journeys },
  );
  return previous ? { id: doc.id, version, previous } : { id: doc.id, version };
}

/** Stores `doc` as a new version, from `first` on: `create` fails when another publisher (or an
 * interrupted one) has the number, and the next is tried. */
async function claimVersion(
  kv: KV,
  doc: JourneyDocument,
  first: number,
  opts: Pick<PublishOptions, 'now' | 'source'>,
): Promise<number> {
  let version = first;
  for (let attempt = 1; ; attempt++) {
    const value: JourneyVersion = {
      v: 1,
      id: doc.id,
      version,
      hash: journeyHash(doc),
      publishedAt: opts.now ?? Date.now(),
      document: doc,
      ...(opts.source !== undefined && { source: opts.source }),
    };
    try {
      await kv.create(journeyVersionKey(doc.id, version), journeyVersionCodec.encode(value));
      return version;
    } catch (err) {
      if (!isCasConflict(err) && !/exist/i.test((err as Error).message)) throw err;
      if (attempt >= 10) {
        throw new JourneyRegistryError(
          JOURNEY_VERSION_EXHAUSTED,
          `${doc.id}: could not claim a version number after ${attempt} attempts`,
          { cause: err },
        );
      }
      version++;
    }
  }
}

/** Archives the active version: it takes no more entries (head.active = null). */
export async function archiveJourney(bus: Bus, id: string): Promise<{ version: number }> {
  const kv = await bucket(bus);
  let archived: number | undefined;
  await casUpdate<JourneyHead>(
    kv,
    id,
    (current) => {
      if (!current) throw new JourneyRegistryError(JOURNEY_NOT_FOUND, `journey '${id}' does not exist`);
      if (current.active === null) {
        throw new JourneyRegistryError(JOURNEY_NOT_ACTIVE, `journey '${id}' has no active version`);
      }
      archived = current.active;
      // A shadow compares with the active version: with none left, it goes too.
      const versions = { ...current.versions, [String(current.active)]: 'archived' as const };
      if (current.shadow != null) versions[String(current.shadow)] = 'archived';
      return { ...current, active: null, shadow: null, versions };
    },
    { codec: journeyHeadCodec, bucket: BUCKETS.journeys },
  );
  return { version: archived as number };
}

export interface ShadowPublishResult {
  id: string;
  version: number;
  /** The shadow it replaced (archived: its instances end). */
  replaced?: number;
}

/**
 * Stores `doc` as a new version and makes it the journey's shadow: decided beside the active
 * version on every input, sending nothing. A shadow there already is archived. The journey must
 * have an active version (JOURNEY_NOT_FOUND / JOURNEY_NOT_ACTIVE otherwise, before anything is
 * stored).
 */
export async function publishShadowVersion(
  bus: Bus,
  doc: JourneyDocument,
  opts: Pick<PublishOptions, 'now' | 'source'> = {},
): Promise<ShadowPublishResult> {
  const kv = await bucket(bus);
  const head = await readJourneyHead(bus, doc.id);
  requireActive(doc.id, head);
  const version = await claimVersion(kv, doc, (head?.latest ?? 0) + 1, opts);
  let replaced: number | undefined;
  await casUpdate<JourneyHead>(
    kv,
    doc.id,
    (current) => {
      replaced = undefined;
      const active = requireActive(doc.id, current);
      const versions = { ...active.versions };
      const latest = Math.max(active.latest, version);
      if (active.shadow != null && active.shadow > version) {
        // A newer shadow won the race meanwhile: this one is archived at once.
        versions[String(version)] = 'archived';
        return { ...active, latest, versions };
      }
      if (active.shadow != null) {
        versions[String(active.shadow)] = 'archived';
        replaced = active.shadow;
      }
      versions[String(version)] = 'shadow';
      return { ...active, latest, shadow: version, versions };
    },
    { codec: journeyHeadCodec, bucket: BUCKETS.journeys },
  );
  return replaced === undefined ? { id: doc.id, version } : { id: doc.id, version, replaced };
}

function requireActive(id: string, head: JourneyHead | undefined): JourneyHead {
  if (!head) {
    throw new JourneyRegistryError(
      JOURNEY_NOT_FOUND,
      `journey '${id}' does not exist: a shadow runs beside an active version`,
    );
  }
  if (head.active === null) {
    throw new JourneyRegistryError(
      JOURNEY_NOT_ACTIVE,
      `journey '${id}' has no active version for a shadow to run beside`,
    );
  }
  return head;
}

function requireShadow(id: string, head: JourneyHead | undefined): JourneyHead & { shadow: number } {
  if (!head) throw new JourneyRegistryError(JOURNEY_NOT_FOUND, `journey '${id}' does not exist`);
  if (head.shadow == null) {
    throw new JourneyRegistryError(JOURNEY_NO_SHADOW, `journey '${id}' has no shadow version`);
  }
  return head as JourneyHead & { shadow: number };
}

export interface PromoteResult {
  id: string;
  /** The shadow version, active now. */
  version: number;
  /** The version that was active: it drains (its running instances finish on it). */
  previous?: number;
}

/**
 * Makes the shadow version the active one (one CAS on the head): new entries go to it and send;
 * the version active until now drains. The shadow's own instances are not adopted: each ends
 * (`shadow_ended`) when its pending timer fires, since the users they simulate have live
 * instances of the draining version at the same keys.
 */
export async function promoteShadow(bus: Bus, id: string): Promise<PromoteResult> {
  const kv = await bucket(bus);
  let result: PromoteResult | undefined;
  await casUpdate<JourneyHead>(
    kv,
    id,
    (current) => {
      const head = requireShadow(id, current);
      const versions = { ...head.versions, [String(head.shadow)]: 'active' as const };
      if (head.active !== null) versions[String(head.active)] = 'draining';
      result = {
        id,
        version: head.shadow,
        ...(head.active !== null && { previous: head.active }),
      };
      return { ...head, active: head.shadow, shadow: null, versions };
    },
    { codec: journeyHeadCodec, bucket: BUCKETS.journeys },
  );
  return result!;
}

/** Archives the shadow version: it decides nothing more; each of its instances ends
 * (`shadow_ended`) when its pending timer fires, which does nothing else. */
export async function archiveShadow(bus: Bus, id: string): Promise<{ version: number }> {
  const kv = await bucket(bus);
  let archived: number | undefined;
  await casUpdate<JourneyHead>(
    kv,
    id,
    (current) => {
      const head = requireShadow(id, current);
      archived = head.shadow;
      return { ...head, shadow: null, versions: { ...head.versions, [String(head.shadow)]: 'archived' } };
    },
    { codec: journeyHeadCodec, bucket: BUCKETS.journeys },
  );
  return { version: archived! };
}

export async function readJourneyHead(bus: Bus, id: string): Promise<JourneyHead | undefined> {
  const entry = await (await bucket(bus)).get(id);
  return live(entry) ? decodeValue(journeyHeadCodec, BUCKETS.journeys, id, entry.value) : undefined;
}

export async function readJourneyVersion(
  bus: Bus,
  id: string,
  version: number,
): Promise<JourneyVersion | undefined> {
  const entry = await (await bucket(bus)).get(journeyVersionKey(id, version));
  const key = journeyVersionKey(id, version);
  return live(entry) ? decodeValue(journeyVersionCodec, BUCKETS.journeys, key, entry.value) : undefined;
}

/** Every journey's head, by id. A head that does not decode is skipped and passed to
 * `onUnreadable` (a CAIRN_E_BUS_VALUE_INVALID naming its key): the others are still listed. */
export async function listJourneys(
  bus: Bus,
  onUnreadable: (err: BusError, key: string) => void = () => undefined,
): Promise<JourneyHead[]> {
  const kv = await bucket(bus);
  const out: JourneyHead[] = [];
  for await (const key of await kv.keys()) {
    if (!isHeadKey(key)) continue;
    const entry = await kv.get(key);
    if (!live(entry)) continue;
    try {
      out.push(decodeValue(journeyHeadCodec, BUCKETS.journeys, key, entry.value));
    } catch (err) {
      if (!(err instanceof BusError)) throw err;
      onUnreadable(err, key);
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface JourneyWatch {
  /** Resolves once every head that existed at the start has been passed to `onChange`. */
  initialized: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Calls `onChange` with every head: the current ones, then each change, never an older revision
 * of a head after a newer one. Values that do not decode go to `onError` (default: ignored).
 */
export async function watchJourneys(
  bus: Bus,
  onChange: (head: JourneyHead) => void,
  onError: (err: unknown, key: string) => void = () => undefined,
): Promise<JourneyWatch> {
  const kv = await bucket(bus);
  const seen = new Map<string, number>();
  const apply = (e: KvEntry): void => {
    if (!isHeadKey(e.key) || e.operation !== 'PUT') return;
    if ((seen.get(e.key) ?? 0) >= e.revision) return;
    seen.set(e.key, e.revision);
    try {
      onChange(decodeValue(journeyHeadCodec, BUCKETS.journeys, e.key, e.value));
    } catch (err) {
      onError(err, e.key);
    }
  };
  // Heads are single-token keys: the server filters the versions out.
  const iter = await kv.watch({ key: '*' });
  const loop = (async () => {
    for await (const e of iter) apply(e);
  })().catch((err: unknown) => onError(err, '*'));
  // The watch replays current values too, but gives no signal when it is done: read them once.
  const initialized = (async () => {
    for await (const key of await kv.keys('*')) {
      const entry = await kv.get(key);
      if (entry) apply(entry);
    }
  })();
  await initialized;
  return {
    initialized,
    async stop() {
      iter.stop();
      await loop;
    },
  };
}

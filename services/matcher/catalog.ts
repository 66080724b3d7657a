// The compiled journey versions the matcher decides with, in memory. Loaded at start and kept
// current by a watch on the journey heads: the active version of each journey takes entries;
// draining versions only carry on their instances; a shadow version is decided beside them
// (shadow.ts) and is never the one a live input finds. A version an instance needs that is not
// loaded (an archived one, say) is read and compiled on first use.
// A head is stored the moment it is seen, while the versions it names compile asynchronously:
// an input is applied only once `current()` resolved, so an input that arrives while a version
// is being published waits for it rather than finding no journey (and being acked unapplied).
import {
  readJourneyVersion,
  watchJourneys,
  type Bus,
  type JourneyHead,
  type JourneyWatch,
} from '../../libs/bus/index.js';
import { compile, type CompiledJourney } from '../../libs/journey/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

/** A version that does not exist in KV `journeys` (a deleted or corrupt registry entry). */
export class UnknownVersionError extends Error {
  override readonly name = 'UnknownVersionError';
  readonly code = 'CAIRN_E_JOURNEY_NOT_FOUND';
}

const keyOf = (id: string, version: number): string => `${id}.v${version}`;

export class JourneyCatalog {
  private readonly heads = new Map<string, JourneyHead>();
  private readonly compiled = new Map<string, CompiledJourney>();
  private readonly loading = new Map<string, Promise<CompiledJourney>>();
  /** Event name -> ids of journeys whose active or draining versions listen to it. */
  private byEvent = new Map<string, string[]>();
  /** Event name -> ids of journeys whose shadow version listens to it. */
  private shadowsByEvent = new Map<string, string[]>();
  private watch: JourneyWatch | undefined;
  private pending = new Set<Promise<void>>();
  /** Bumped by each head seen: `current()` knows whether one arrived while it waited. */
  private generation = 0;
  /** Whether every live version the heads seen name is compiled (or known not to exist). */
  private complete = true;
  /** Live versions a head names that the registry does not hold (logged; nothing to wait for). */
  private readonly missing = new Set<string>();

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  /** Loads every active and draining version; resolves when they are compiled. */
  async start(): Promise<void> {
    this.watch = await watchJourneys(
      this.bus,
      (head) => this.onHead(head),
      (err, key) => this.log.error({ err, key }, 'journey head unreadable'),
    );
    await this.settled();
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
    await this.settled();
  }

  /** Waits for the loads started by head changes seen so far. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /**
   * Resolves once every live version named by the heads seen so far is compiled, loading again
   * any whose load failed; rejects when one cannot be read now (the input is retried). A version
   * the registry does not hold is logged and skipped: retrying would not make it appear, and the
   * other journeys must go on.
   */
  async current(): Promise<void> {
    while (!this.complete) {
      const generation = this.generation;
      const loads: Promise<unknown>[] = [];
      for (const head of this.heads.values()) {
        for (const [n, status] of Object.entries(head.versions)) {
          const key = keyOf(head.id, Number(n));
          if (status === 'archived' || this.compiled.has(key) || this.missing.has(key)) continue;
          loads.push(
            this.version(head.id, Number(n)).catch((err: unknown) => {
              if (!(err instanceof UnknownVersionError)) throw err;
              this.missing.add(key);
              this.log.error({ err, journeyId: head.id, version: Number(n) }, 'journey version missing');
            }),
          );
        }
      }
      await Promise.all(loads);
      if (loads.length > 0) this.reindex();
      if (generation === this.generation) this.complete = true;
    }
  }

  /** Ids of the journeys interested in an event name (any live version). */
  journeysFor(eventName: string): readonly string[] {
    return this.byEvent.get(eventName) ?? [];
  }

  /** Ids of the journeys whose shadow version is interested in an event name. */
  shadowsFor(eventName: string): readonly string[] {
    return this.shadowsByEvent.get(eventName) ?? [];
  }

  /** The shadow version's number, or undefined when the journey has none. */
  shadowVersion(id: string): number | undefined {
    return this.heads.get(id)?.shadow ?? undefined;
  }

  /** The shadow version, compiled (undefined while it loads, or when there is none). */
  shadow(id: string): CompiledJourney | undefined {
    const n = this.shadowVersion(id);
    return n === undefined ? undefined : this.compiled.get(keyOf(id, n));
  }

  /** The active version's number, or undefined when none takes entries. */
  activeVersion(id: string): number | undefined {
    return this.heads.get(id)?.active ?? undefined;
  }

  /** Whether the version was archived: its instances end (on a notice, or their next input). */
  isArchived(id: string, version: number): boolean {
    return this.heads.get(id)?.versions[String(version)] === 'archived';
  }

  /** The active version, compiled (undefined while it loads, or when none is active). */
  active(id: string): CompiledJourney | undefined {
    const n = this.activeVersion(id);
    return n === undefined ? undefined : this.compiled.get(keyOf(id, n));
  }

  /** The newest loaded live version, for reading keys and journaling when none is active. */
  newest(id: string): CompiledJourney | undefined {
    const head = this.heads.get(id);
    if (!head) return undefined;
    let best: CompiledJourney | undefined;
    for (const [n, status] of Object.entries(head.versions)) {
      if (status === 'shadow') continue;
      const c = this.compiled.get(keyOf(id, Number(n)));
      if (c && (!best || c.version > best.version)) best = c;
    }
    return best;
  }

  /** Whether any live version of the journey has an exit rule on this event. */
  exitsOn(id: string, eventName: string): boolean {
    const head = this.heads.get(id);
    if (!head) return false;
    return Object.entries(head.versions).some(
      ([n, status]) =>
        status !== 'shadow' &&
        (this.compiled.get(keyOf(id, Number(n)))?.index[eventName]?.exits.length ?? 0) > 0,
    );
  }

  /** A version by number, compiled on first use. Throws UnknownVersionError when it does not exist. */
  version(id: string, version: number): Promise<CompiledJourney> {
    const key = keyOf(id, version);
    const hit = this.compiled.get(key);
    if (hit) return Promise.resolve(hit);
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.load(id, version).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  private async load(id: string, version: number): Promise<CompiledJourney> {
    const stored = await readJourneyVersion(this.bus, id, version);
    if (!stored) throw new UnknownVersionError(`journey ${id} has no version ${version}`);
    const compiled = compile(stored.document, { version });
    this.compiled.set(keyOf(id, version), compiled);
    this.log.info({ journeyId: id, version }, 'journey version loaded');
    return compiled;
  }

  private onHead(head: JourneyHead): void {
    this.heads.set(head.id, head);
    this.generation++;
    this.complete = false;
    const live = Object.entries(head.versions)
      .filter(([, status]) => status !== 'archived')
      .map(([n]) => Number(n));
    const task = Promise.all(
      live.map((n) =>
        this.version(head.id, n).catch((err: unknown) =>
          this.log.error({ err, journeyId: head.id, version: n }, 'journey version not loadable'),
        ),
      ),
    ).then(() => this.reindex());
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
    this.reindex();
  }

  private reindex(): void {
    const byEvent = new Map<string, string[]>();
    const shadowsByEvent = new Map<string, string[]>();
    const add = (index: Map<string, string[]>, name: string, id: string): void => {
      const list = index.get(name);
      if (list) list.push(id);
      else index.set(name, [id]);
    };
    for (const head of this.heads.values()) {
      const names = new Set<string>();
      for (const [n, status] of Object.entries(head.versions)) {
        if (status === 'archived' || status === 'shadow') continue;
        const c = this.compiled.get(keyOf(head.id, Number(n)));
        if (c) for (const name of Object.keys(c.index)) names.add(name);
      }
      for (const name of names) add(byEvent, name, head.id);
      const shadow = this.shadow(head.id);
      if (shadow) for (const name of Object.keys(shadow.index)) add(shadowsByEvent, name, head.id);
    }
    this.byEvent = byEvent;
    this.shadowsByEvent = shadowsByEvent;
  }
}

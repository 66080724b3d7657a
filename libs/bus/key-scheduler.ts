// Per-key serialization with bounded concurrency: items with the same key run one at a time in
// arrival order; different keys run concurrently up to a limit. An item may hold several keys (an
// alias event, which links two users): it runs once it heads the queue of each, and everything
// behind it on any of them waits for it. Arrival order is one total order, so no two items can
// wait for each other. A key can be blocked on one item (a message waiting for its delayed
// redelivery) so later items wait behind it; `release` gives up on a redelivery that cannot come.

interface Entry<T> {
  id: number;
  item: T;
  keys: readonly string[];
}

interface KeyQueue<T> {
  items: Entry<T>[];
  running: boolean;
  /** The id of the item this key waits for before anything else runs. */
  blockedBy?: number;
}

export class KeyScheduler<T> {
  readonly #queues = new Map<string, KeyQueue<T>>();
  readonly #ready: Entry<T>[] = [];
  readonly #queued = new Set<Entry<T>>();
  /** Items queued or running, by id. */
  readonly #entries = new Map<number, Entry<T>>();
  /** The keys of each item some keys are blocked on. */
  readonly #blocked = new Map<number, readonly string[]>();
  #running = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly run: (item: T, keys: readonly string[]) => Promise<void>,
  ) {}

  /** True when an item with this id is queued or running (a duplicate delivery). */
  has(id: number): boolean {
    return this.#entries.has(id);
  }

  /** The keys an awaited redelivery goes back to (those it held when it was blocked). */
  blockedKeys(id: number): readonly string[] | undefined {
    return this.#blocked.get(id);
  }

  get running(): number {
    return this.#running;
  }

  push(keys: string | readonly string[], id: number, item: T): void {
    const awaited = this.#blocked.get(id);
    const entry: Entry<T> = {
      id,
      item,
      keys: awaited ?? (typeof keys === 'string' ? [keys] : [...new Set(keys)]),
    };
    this.#entries.set(id, entry);
    this.#blocked.delete(id);
    for (const key of entry.keys) {
      const q = this.#queue(key);
      if (q.blockedBy === id) {
        // The awaited redelivery: it goes first, then the key flows again.
        q.items.unshift(entry);
        delete q.blockedBy;
      } else {
        q.items.push(entry);
      }
    }
    for (const key of entry.keys) this.#check(this.#queues.get(key)!.items[0]);
    this.#pump();
  }

  /** Hold the later items of every key of item `id` until it is pushed again. Call from within
   * `run`. */
  block(id: number): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#blocked.set(id, entry.keys);
    for (const key of entry.keys) this.#queue(key).blockedBy = id;
  }

  /** Stop waiting for the redelivery of `id` (it can no longer come): its keys flow again. */
  release(id: number): boolean {
    const keys = this.#blocked.get(id);
    if (!keys) return false;
    this.#blocked.delete(id);
    for (const key of keys) {
      const q = this.#queues.get(key);
      if (q?.blockedBy !== id) continue;
      delete q.blockedBy;
      this.#settle(key, q);
    }
    this.#pump();
    return true;
  }

  /** Removes and returns every queued (not running) item, and forgets all blocks. */
  drain(): T[] {
    const out: T[] = [];
    const seen = new Set<Entry<T>>();
    for (const q of this.#queues.values()) {
      for (const entry of q.items) {
        if (seen.has(entry)) continue;
        seen.add(entry);
        this.#entries.delete(entry.id);
        out.push(entry.item);
      }
      q.items = [];
      delete q.blockedBy;
    }
    this.#blocked.clear();
    this.#ready.length = 0;
    this.#queued.clear();
    return out;
  }

  /** Resolves when nothing runs. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #queue(key: string): KeyQueue<T> {
    let q = this.#queues.get(key);
    if (!q) {
      q = { items: [], running: false };
      this.#queues.set(key, q);
    }
    return q;
  }

  /** Queues `entry` to run when it heads every one of its keys and none is busy or blocked. */
  #check(entry: Entry<T> | undefined): void {
    if (!entry || this.#queued.has(entry)) return;
    for (const key of entry.keys) {
      const q = this.#queues.get(key);
      if (!q || q.running || q.blockedBy !== undefined || q.items[0] !== entry) return;
    }
    this.#queued.add(entry);
    this.#ready.push(entry);
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#ready.length > 0) {
      const entry = this.#ready.shift()!;
      this.#queued.delete(entry);
      for (const key of entry.keys) {
        const q = this.#queues.get(key)!;
        q.items.shift();
        q.running = true;
      }
      this.#running++;
      void this.run(entry.item, entry.keys)
        .catch(() => undefined)
        .finally(() => this.#done(entry));
    }
  }

  #done(entry: Entry<T>): void {
    this.#entries.delete(entry.id);
    this.#running--;
    for (const key of entry.keys) {
      const q = this.#queues.get(key)!;
      q.running = false;
      this.#settle(key, q);
    }
    this.#pump();
    if (this.#running === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Forgets an empty key, or looks at its next item. */
  #settle(key: string, q: KeyQueue<T>): void {
    if (q.items.length === 0 && !q.running && q.blockedBy === undefined) this.#queues.delete(key);
    else if (!q.running) this.#check(q.items[0]);
  }
}

// Per-key serialization with bounded concurrency: items with the same key run one at a time in
// arrival order; different keys run concurrently up to a limit. A key can be blocked on one
// item (a message waiting for its delayed redelivery) so later items wait behind it.

interface KeyQueue<T> {
  items: { id: number; item: T }[];
  running: boolean;
  /** The key sits in the ready list. */
  scheduled: boolean;
  /** The id of the item this key waits for before anything else runs. */
  blockedBy?: number;
}

export class KeyScheduler<T> {
  readonly #queues = new Map<string, KeyQueue<T>>();
  readonly #ready: string[] = [];
  readonly #ids = new Set<number>();
  #running = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly run: (item: T, key: string) => Promise<void>,
  ) {}

  /** True when an item with this id is queued or running (a duplicate delivery). */
  has(id: number): boolean {
    return this.#ids.has(id);
  }

  get running(): number {
    return this.#running;
  }

  push(key: string, id: number, item: T): void {
    this.#ids.add(id);
    let q = this.#queues.get(key);
    if (!q) {
      q = { items: [], running: false, scheduled: false };
      this.#queues.set(key, q);
    }
    if (q.blockedBy === id) {
      // The awaited redelivery: it goes first, then the key flows again.
      q.items.unshift({ id, item });
      delete q.blockedBy;
    } else {
      q.items.push({ id, item });
    }
    this.#schedule(key, q);
    this.#pump();
  }

  /** Hold the key's later items until the item `id` is pushed again. Call from within `run`. */
  block(key: string, id: number): void {
    const q = this.#queues.get(key);
    if (q) q.blockedBy = id;
  }

  /** Removes and returns every queued (not running) item, and forgets all blocks. */
  drain(): T[] {
    const out: T[] = [];
    for (const q of this.#queues.values()) {
      for (const { id, item } of q.items) {
        this.#ids.delete(id);
        out.push(item);
      }
      q.items = [];
      q.scheduled = false;
      delete q.blockedBy;
    }
    this.#ready.length = 0;
    return out;
  }

  /** Resolves when nothing runs. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(key: string, q: KeyQueue<T>): void {
    if (q.running || q.scheduled || q.blockedBy !== undefined || q.items.length === 0) return;
    q.scheduled = true;
    this.#ready.push(key);
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      const q = this.#queues.get(key);
      if (!q) continue;
      q.scheduled = false;
      if (q.running || q.blockedBy !== undefined) continue;
      const next = q.items.shift();
      if (!next) continue;
      q.running = true;
      this.#running++;
      void this.run(next.item, key)
        .catch(() => undefined)
        .finally(() => this.#done(key, q, next.id));
    }
  }

  #done(key: string, q: KeyQueue<T>, id: number): void {
    this.#ids.delete(id);
    q.running = false;
    this.#running--;
    if (q.items.length === 0 && q.blockedBy === undefined) this.#queues.delete(key);
    else this.#schedule(key, q);
    this.#pump();
    if (this.#running === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

// The simulator's pending timers: a binary min-heap ordered by instant, then by start order, so
// that a replay with many instances waiting pays O(log n) per timer, not a shift of the queue.
import type { Instant } from './types.js';

export interface QueuedTimer {
  at: Instant;
  /** Start order: of two timers at one instant, the one started first fires first. */
  seq: number;
  token: string;
  journeyId: string;
  userKey: string;
  instanceKey: string;
}

const before = (a: QueuedTimer, b: QueuedTimer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class TimerQueue {
  private readonly heap: QueuedTimer[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(timer: Omit<QueuedTimer, 'seq'>): void {
    const { at, token, journeyId, userKey, instanceKey } = timer;
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, token, journeyId, userKey, instanceKey });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!before(heap[i] as QueuedTimer, heap[parent] as QueuedTimer)) break;
      [heap[i], heap[parent]] = [heap[parent] as QueuedTimer, heap[i] as QueuedTimer];
      i = parent;
    }
  }

  peek(): QueuedTimer | undefined {
    return this.heap[0];
  }

  pop(): QueuedTimer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && before(heap[l] as QueuedTimer, heap[min] as QueuedTimer)) min = l;
      if (r < heap.length && before(heap[r] as QueuedTimer, heap[min] as QueuedTimer)) min = r;
      if (min === i) break;
      [heap[i], heap[min]] = [heap[min] as QueuedTimer, heap[i] as QueuedTimer];
      i = min;
    }
    return top;
  }

  /** Every pending timer in firing order (a copy). */
  ordered(): QueuedTimer[] {
    return [...this.heap].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }
}

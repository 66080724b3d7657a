// The simulator's pending timers: a min-heap ordered by instant, then by start order, so that a
// replay with many instances waiting pays O(log n) per timer, not a shift of the queue.
import { MinHeap } from './min-heap.js';
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

export class TimerQueue {
  private readonly heap = new MinHeap<QueuedTimer>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private seq = 0;

  get size(): number {
    return this.heap.size;
  }

  push(timer: Omit<QueuedTimer, 'seq'>): void {
    const { at, token, journeyId, userKey, instanceKey } = timer;
    this.heap.push({ at, seq: this.seq++, token, journeyId, userKey, instanceKey });
  }

  peek(): QueuedTimer | undefined {
    return this.heap.peek();
  }

  pop(): QueuedTimer | undefined {
    return this.heap.pop();
  }

  /** Every pending timer in firing order (a copy). */
  ordered(): QueuedTimer[] {
    return this.heap.ordered();
  }
}

// The timer service's pending timers: the core's min-heap, earliest `at` first (ties by token,
// for a stable order).
import { MinHeap } from '../../libs/journey/index.js';

export interface HeapTimer {
  at: number;
  token: string;
}

export class TimerHeap<T extends HeapTimer> extends MinHeap<T> {
  constructor() {
    super((x, y) => x.at < y.at || (x.at === y.at && x.token < y.token));
  }
}

// Per-partition order across a crash (DESIGN.md §5.2). When a consumer session starts while an
// earlier session's messages are still unacknowledged (it was killed, or nak'd them on stop),
// the server redelivers those only after ack wait, and not necessarily in sequence order, but
// delivers newer messages at once: a user's purchase could then be applied before the checkout
// it follows. The gate holds everything until each of the earlier session's messages (sequence
// <= the consumer's delivered sequence at start) came back, then passes all it holds in stream
// order; a deadline opens it anyway (a message the earlier session acked late never comes back).
export interface Sequenced {
  seq: number;
}

export class RecoveryGate<M extends Sequenced> {
  private readonly awaited: number;
  private readonly returned = new Set<number>();
  private held: M[] = [];
  private open: boolean;
  private readonly timer: NodeJS.Timeout | undefined;

  /**
   * @param pending the consumer's num_ack_pending at the start of this session
   * @param deliveredSeq the consumer's delivered stream sequence at the start of this session
   * @param timeoutMs how long newer messages wait at most
   * @param pass where messages go once in order
   * @param onTimeout called when the deadline opens the gate with messages still missing
   */
  constructor(
    pending: number,
    private readonly deliveredSeq: number,
    timeoutMs: number,
    private readonly pass: (msg: M) => void,
    onTimeout: (missing: number, held: number) => void,
  ) {
    this.awaited = pending;
    this.open = pending <= 0;
    if (!this.open) {
      this.timer = setTimeout(() => {
        onTimeout(this.awaited - this.returned.size, this.held.length);
        this.release();
      }, timeoutMs);
      this.timer.unref();
    }
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Messages waiting for the gate to open (they need heartbeats). */
  get waiting(): readonly M[] {
    return this.held;
  }

  offer(msg: M): void {
    if (this.open) return this.pass(msg);
    this.held.push(msg);
    if (msg.seq <= this.deliveredSeq) this.returned.add(msg.seq);
    if (this.returned.size >= this.awaited) this.release();
  }

  /** Stops waiting; returns what was held (for a nak on shutdown). */
  close(): M[] {
    clearTimeout(this.timer);
    this.open = true;
    const held = this.held;
    this.held = [];
    return held;
  }

  private release(): void {
    const held = this.close().sort((a, b) => a.seq - b.seq);
    // A message redelivered while held is there twice: it passes once.
    let last = -1;
    for (const msg of held) {
      if (msg.seq === last) continue;
      last = msg.seq;
      this.pass(msg);
    }
  }
}

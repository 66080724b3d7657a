// What a handler returns (STYLE.md rule 4); only the runner turns it into ack/nak/term.

export type Outcome =
  | { kind: 'ack' }
  | { kind: 'retry'; delayMs: number; notRun?: true }
  | { kind: 'terminal'; reason: string; detail?: string };

export const ack = (): Outcome => ({ kind: 'ack' });

/** Redeliver after `delayMs` (a durable JetStream redelivery, never an in-memory loop). */
export const retry = (delayMs: number): Outcome => ({
  kind: 'retry',
  delayMs: Math.max(0, Math.round(delayMs)),
});

/** Redeliver without counting an attempt: the handler did not run (this process may not handle
 * the message now, e.g. it does not hold the partition's lease). */
export const handBack = (delayMs: number): Outcome => ({
  kind: 'retry',
  delayMs: Math.max(0, Math.round(delayMs)),
  notRun: true,
});

/**
 * Give up: the message goes to the DLQ and is terminated. `reason` is a short stable code
 * (it becomes a metric label); `detail` is free text kept in the DLQ record.
 */
export const terminal = (reason: string, detail?: string): Outcome =>
  detail === undefined ? { kind: 'terminal', reason } : { kind: 'terminal', reason, detail };

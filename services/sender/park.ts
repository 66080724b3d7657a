// Durable waits of a delivery job (STYLE.md rule 6: never a loop held in memory). A retry or a
// deferral re-publishes the job with `notBefore` and acks the copy in hand:
// - a short wait (<= 5 s) goes back on deliver.<p>; the sender naks it with the remaining
//   delay when it comes round early (one JetStream redelivery, held for seconds);
// - a long wait (minutes to hours) is parked in stream TIMERS as a timer carrying the job; the
//   timer service fires it back onto deliver.<p> at its instant. Nothing is held pending in the
//   DELIVER consumers meanwhile, so a destination that is down for hours neither uses up
//   max_deliver nor fills max_ack_pending for the other destinations of the partition.
// Each copy has a deterministic Nats-Msg-Id (`<deliveryId>:a<attempt>` for a retry), so a
// re-publish after a crash is dropped by the stream's duplicate window.
import {
  DeliverJobMessage,
  publishWithId,
  subjects,
  TimerMessage,
  type Bus,
  type DeliverJob,
  type TimerRecord,
} from '../../libs/bus/index.js';

/**
 * Waits up to this long go back on deliver.<p>; longer ones go through the timer service. Short,
 * because a nak'd copy holds a max_ack_pending slot for its wait: a destination whose circuit is
 * open at 100 jobs/s holds at most ~500 slots of the partition consumer's 1000.
 */
export const SHORT_WAIT_MS = 5_000;

export interface ParkOptions {
  bus: Bus;
  timerBucketMs: number;
  shortWaitMs: number;
}

export type ParkedVia = 'deliver' | 'timer';

/** The partition of a `deliver.<p>` subject. */
export function partitionOfSubject(subject: string): number {
  const p = Number(subject.split('.')[1]);
  if (!Number.isInteger(p) || p < 0) throw new Error(`not a deliver subject: ${subject}`);
  return p;
}

export async function parkJob(
  o: ParkOptions,
  partition: number,
  job: DeliverJob,
  msgId: string,
  now: number,
): Promise<ParkedVia> {
  const at = job.notBefore ?? now;
  if (at - now <= o.shortWaitMs) {
    await publishWithId(o.bus.js, subjects.deliver(partition), DeliverJobMessage.encode(job), msgId);
    return 'deliver';
  }
  const timer: TimerRecord = {
    v: 1,
    kind: 'timer',
    journeyId: job.stepKey.journeyId,
    userKey: job.userKey,
    instanceKey: job.deliveryId,
    token: msgId,
    at,
    deliver: job,
  };
  const bucket = Math.floor(at / o.timerBucketMs);
  await publishWithId(
    o.bus.js,
    subjects.timerBucket(partition, bucket),
    TimerMessage.encode(timer),
    `park:${msgId}`,
  );
  return 'timer';
}

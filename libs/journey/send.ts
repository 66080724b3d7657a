// A send: one `deliver` command per destination, or a `send.failed` record when the payload is
// over the size limit (the destination would reject it; better to say so in the journal).
import { buildSendPayload, deliveryIdOf, payloadBytes, stepKeyOf } from './payload.js';
import { emit, journal, type Run } from './run.js';
import type { Instance, Instant, SendSpec } from './types.js';

export function emitSend(
  run: Run,
  instance: Instance,
  spec: SendSpec,
  stepId: string,
  visit: number,
  at: Instant,
): void {
  const limit = run.journey.limits.maxPayloadBytes;
  for (const destination of spec.to) {
    const deliveryId = deliveryIdOf(instance.id, stepId, visit, destination);
    const payload = buildSendPayload({
      journey: run.journey,
      instance,
      spec,
      stepId,
      deliveryId,
      profile: run.ctx.profile,
      at,
    });
    const bytes = payloadBytes(payload);
    if (bytes > limit) {
      journal(run, instance, 'send.failed', {
        stepId,
        reason: 'payload_too_large',
        detail: { destination, deliveryId, bytes, limit },
      });
      continue;
    }
    emit(run, {
      kind: 'deliver',
      id: deliveryId,
      deliveryId,
      destination,
      stepKey: stepKeyOf(run.journey, stepId),
      payload,
      eventReceivedAt: run.cause.receivedAt,
      eventTimestamp: run.cause.timestamp,
    });
    journal(run, instance, 'sent', { stepId, detail: { destination, deliveryId } });
  }
}

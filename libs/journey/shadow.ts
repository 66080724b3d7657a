// A shadow version's commands (`cairn journey publish --shadow`): the decision of the shadow is
// made by the same decide() as the live version's, and only what it publishes differs. Every
// journal record is marked `shadow: true`; a send is journaled `would_send` with its payload
// (the delivery id is the one the live version gives the same send) and never becomes a
// `deliver`; timers are started under a token of their own so that they fire back into the
// shadow. Every id is prefixed so that no publish of the shadow is taken by JetStream for a
// duplicate of the live version's (same instance id, same input, same message id otherwise).
import type { Command, JournalRecord } from './types.js';

/** Prefix of the ids of a shadow's commands, and of its timers' tokens. */
export const SHADOW_PREFIX = 'shadow:';

/** The token a shadow's timer carries for the instance's wait token. */
export const shadowToken = (token: string): string => `${SHADOW_PREFIX}${token}`;

/** The instance's wait token of a shadow timer, or undefined for a live one. */
export function unshadowToken(token: string): string | undefined {
  return token.startsWith(SHADOW_PREFIX) ? token.slice(SHADOW_PREFIX.length) : undefined;
}

type Deliver = Extract<Command, { kind: 'deliver' }>;

/** The record a shadow journals: a `sent` becomes `would_send` with the payload it would carry. */
function shadowRecord(record: JournalRecord, deliveries: Map<string, Deliver>): JournalRecord {
  const deliveryId = record.type === 'sent' ? record.detail?.['deliveryId'] : undefined;
  const send = typeof deliveryId === 'string' ? deliveries.get(deliveryId) : undefined;
  if (!send) return { ...record, shadow: true };
  return {
    ...record,
    type: 'would_send',
    detail: { ...record.detail, stepKey: send.stepKey, payload: send.payload },
    shadow: true,
  };
}

/**
 * The commands of a shadow's decision as they are published: no `deliver`; each `sent` record
 * a `would_send` carrying the payload; every record `shadow: true`; ids and timer tokens
 * prefixed with `shadow:`. Pure and deterministic: a redelivered input re-publishes the same.
 */
export function asShadow(commands: readonly Command[]): Command[] {
  const deliveries = new Map<string, Deliver>();
  for (const c of commands) if (c.kind === 'deliver') deliveries.set(c.deliveryId, c);
  const out: Command[] = [];
  for (const c of commands) {
    switch (c.kind) {
      case 'deliver':
        break;
      case 'journal':
        out.push({ ...c, id: SHADOW_PREFIX + c.id, record: shadowRecord(c.record, deliveries) });
        break;
      case 'timer.start':
        out.push({ ...c, id: SHADOW_PREFIX + c.id, token: shadowToken(c.token) });
        break;
      case 'instance.end':
        out.push({ ...c, id: SHADOW_PREFIX + c.id });
        break;
    }
  }
  return out;
}

// asShadow: what a shadow version publishes for a decision's commands — a table of commands in,
// exactly these commands out.
import t from 'tap';

import { asShadow, shadowToken, unshadowToken, type Command } from '../../../libs/journey/index.js';

const record = (type: string, detail?: Record<string, unknown>) => ({
  v: 1 as const,
  at: 5,
  type: type as 'sent',
  journeyId: 'cart',
  version: 2,
  userKey: 'u1',
  instanceId: 'i1',
  inputId: 'm1',
  ...(detail && { detail }),
});

const deliver: Command = {
  kind: 'deliver',
  id: 'i1.nudge.1.sink',
  deliveryId: 'i1.nudge.1.sink',
  destination: 'sink',
  stepKey: { journeyId: 'cart', version: 2, stepId: 'nudge' },
  payload: { cart: 'c1' },
  eventReceivedAt: 1,
  eventTimestamp: 1,
};

void t.test('a send becomes a would_send record with its payload, and no deliver', (t) => {
  const commands: Command[] = [
    { kind: 'journal', id: 'i1:m1:0', record: record('step', { x: 1 }) },
    deliver,
    {
      kind: 'journal',
      id: 'i1:m1:1',
      record: record('sent', { destination: 'sink', deliveryId: deliver.deliveryId }),
    },
  ];
  t.same(asShadow(commands), [
    { kind: 'journal', id: 'shadow:i1:m1:0', record: { ...record('step', { x: 1 }), shadow: true } },
    {
      kind: 'journal',
      id: 'shadow:i1:m1:1',
      record: {
        ...record('would_send'),
        detail: {
          destination: 'sink',
          deliveryId: 'i1.nudge.1.sink',
          stepKey: { journeyId: 'cart', version: 2, stepId: 'nudge' },
          payload: { cart: 'c1' },
        },
        shadow: true,
      },
    },
  ]);
  t.end();
});

void t.test('timers fire back into the shadow; ends and failed sends are marked', (t) => {
  const commands: Command[] = [
    {
      kind: 'timer.start',
      id: 'tok',
      journeyId: 'cart',
      userKey: 'u1',
      instanceKey: 'c1',
      token: 'tok',
      at: 9,
    },
    { kind: 'journal', id: 'i1:m1:0', record: record('send.failed', { deliveryId: 'd', bytes: 9 }) },
    { kind: 'instance.end', id: 'i1:end', instanceId: 'i1', status: 'completed', reason: 'exit_step' },
  ];
  t.same(asShadow(commands), [
    {
      kind: 'timer.start',
      id: 'shadow:tok',
      journeyId: 'cart',
      userKey: 'u1',
      instanceKey: 'c1',
      token: 'shadow:tok',
      at: 9,
    },
    {
      kind: 'journal',
      id: 'shadow:i1:m1:0',
      record: { ...record('send.failed', { deliveryId: 'd', bytes: 9 }), shadow: true },
    },
    { kind: 'instance.end', id: 'shadow:i1:end', instanceId: 'i1', status: 'completed', reason: 'exit_step' },
  ]);
  t.same(asShadow(commands), asShadow(commands), 'deterministic: a redelivery publishes the same');
  t.equal(unshadowToken(shadowToken('abc')), 'abc');
  t.equal(unshadowToken('abc'), undefined, 'a live token is not a shadow one');
  t.end();
});

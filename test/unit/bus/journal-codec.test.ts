// JOURNAL messages: one decision's records in one message (v2), and the single records (v1)
// written before batches still read; instances and messages leave `undefined` members out.
import { Packr } from 'msgpackr';
import t from 'tap';

import { BusCodes, BusError, instanceCodec, JournalMessage } from '../../../libs/bus/index.js';
import type { Instance, JournalRecord } from '../../../libs/journey/index.js';

const record = (type: JournalRecord['type'], extra: Partial<JournalRecord> = {}): JournalRecord => ({
  v: 1,
  at: 1_000,
  type,
  journeyId: 'forward',
  version: 1,
  userKey: 'u1',
  inputId: 'm1',
  ...extra,
});

void t.test('a batch round-trips in order; a v1 record reads as a batch of one', (t) => {
  const records = [record('entered'), record('step', { stepId: 'crm' }), record('completed')];
  t.same(JournalMessage.decode(JournalMessage.encode(records)), records);
  const v1 = new Packr({ useRecords: false }).pack(record('entered', { reason: 'x' }));
  t.same(JournalMessage.decode(v1), [record('entered', { reason: 'x' })]);
  t.end();
});

void t.test('undefined members are left out, not written as an extension', (t) => {
  const withHoles = record('branch', { branchId: undefined, detail: { a: 1, b: undefined } });
  const raw: unknown = new Packr({ useRecords: false }).unpack(JournalMessage.encode([withHoles]));
  t.same(raw, { v: 2, records: [record('branch', { detail: { a: 1 } })] });
  t.notOk(Object.hasOwn((raw as { records: object[] }).records[0]!, 'branchId'));
  const instance = {
    v: 1,
    id: 'i1',
    journeyId: 'forward',
    version: 1,
    userKey: 'u1',
    instanceKey: 'f1',
    status: 'active',
    stepId: null,
    applied: [{ inputId: 'm1', commands: [{ kind: 'journal', note: undefined }] }],
    extra: undefined,
  } as unknown as Instance;
  const back = instanceCodec.decode(instanceCodec.encode(instance)) as unknown as Record<string, unknown>;
  t.notOk(Object.hasOwn(back, 'extra'));
  t.same(back['applied'], [{ inputId: 'm1', commands: [{ kind: 'journal' }] }]);
  t.end();
});

void t.test('what is not a journal message is a typed decode error', (t) => {
  const packr = new Packr({ useRecords: false });
  for (const [bytes, why] of [
    [new Uint8Array([0x92]), /journal: not msgpack/],
    [packr.pack({ v: 3 }), /journal: v:/],
    [packr.pack({ v: 2, records: [{ v: 1, type: 'entered' }] }), /journal: records\.0\.at/],
  ] as const) {
    const err = (() => {
      try {
        JournalMessage.decode(bytes);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    t.ok(err instanceof BusError && err.code === BusCodes.DECODE, `typed: ${String(err)}`);
    t.match((err as Error).message, why);
  }
  t.end();
});

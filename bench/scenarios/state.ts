// Scenario 5: state at scale. Active instances are stored straight into KV `instances` (copies
// of one the core decided, under other users' keys); the matcher runs alone in the worker and
// its inputs are published straight to match.<p>.event. Measured at a small and a large
// instance count, each with a fresh matcher: RSS, CPU per event and events/s. And the event
// index: CPU per event with 1 journey published, then with 100 listening to different events.
import {
  instanceCodec,
  instanceKvKey,
  MatchEventMessage,
  partitionOf,
  STREAMS,
  subjects,
  type Bus,
} from '../../libs/bus/index.js';
import { compile, decide, type Instance, type JourneyDocument } from '../../libs/journey/index.js';
import { journey, publishJourneys, startCairn, startRig, type Rig } from '../cairn.js';
import type { Worker } from '../child.js';
import { processCpuMs, waitFor } from '../env.js';
import { publishAll } from '../load.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';
import { round } from '../stats.js';

const JOURNEYS = 100;
const MB = 1024 * 1024;

const text = (k: number): string => `
id: j${k}
name: Journey ${k}
trigger: { event: evt_${k} }
entry: { mode: every_time, uniqueBy: properties.key }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: done, event: done_${k}, next: end }
    timeout: { after: 7d, next: end }
  - { id: end, type: exit }
`;

/** One active instance of journey k, decided by the core, as the template of the seeded ones. */
function template(doc: JourneyDocument): Instance {
  const now = Date.now();
  const event = {
    type: 'track' as const,
    name: doc.trigger.event,
    userKey: 'template',
    userId: 'template',
    messageId: 'template',
    timestamp: now,
    receivedAt: now,
    properties: { key: 'seed' },
    traits: {},
  };
  const d = decide(
    compile(doc, { version: 1 }),
    undefined,
    { kind: 'event', id: 'template', event },
    {
      now,
      profile: { traits: {}, audiences: [] },
      user: { activeInstances: 0, eventsLastSecond: 0 },
      acceptsEntries: true,
    },
  );
  if (!d.instance) throw new Error('bench: the template event did not enter');
  return d.instance;
}

async function seed(bus: Bus, docs: JourneyDocument[], from: number, to: number): Promise<number> {
  const templates = docs.map(template);
  return publishAll(bus.js, to - from, (n) => {
    const i = from + n;
    const k = i % JOURNEYS;
    const inst = { ...templates[k]!, id: `seed-${i}`, userKey: `s${i}`, instanceKey: 'seed' };
    return {
      subject: `$KV.instances.${instanceKvKey(`j${k}`, inst.userKey, 'seed')}`,
      data: instanceCodec.encode(inst),
    };
  });
}

let eventSeq = 0;
function matchEvent(P: number, name: string, userKey: string) {
  const n = eventSeq++;
  const now = Date.now();
  const event = {
    type: 'track' as const,
    name,
    userKey,
    userId: userKey,
    messageId: `st${n}`,
    timestamp: now,
    receivedAt: now,
    properties: { key: `k${n}` },
    traits: {},
  };
  return {
    subject: subjects.matchEvent(partitionOf(userKey, P)),
    data: MatchEventMessage.encode({ v: 1, kind: 'event', event }),
    msgId: event.messageId,
  };
}

interface Phase {
  /** Inputs applied within the time cap. */
  events: number;
  /** Matcher CPU per applied input. */
  cpuUsPerEvent: number;
  /** nats-server CPU per applied input. */
  serverCpuUsPerEvent: number;
  eventsPerSec: number;
  rssMb: number;
}

/** Inputs not yet applied; undefined when the server does not answer in time (overloaded). */
const matchBacklog = (bus: Bus): Promise<number | undefined> =>
  bus.jsm.streams.info(STREAMS.MATCH).then(
    (info) => info.state.messages,
    () => undefined,
  );

/** Publishes `count` inputs and waits until the matcher has applied them, or `capMs` passed. */
async function phase(
  rig: Rig,
  worker: Worker,
  count: number,
  capMs: number,
  make: (i: number) => ReturnType<typeof matchEvent>,
): Promise<Phase> {
  const { bus } = rig;
  const before = await worker.stats();
  const server0 = processCpuMs(rig.server.pid());
  const t0 = Date.now();
  await publishAll(bus.js, count, make, 256);
  await waitFor(async () => (await matchBacklog(bus)) === 0, Math.max(0, capMs - (Date.now() - t0)), 50);
  const ms = Date.now() - t0;
  const applied = Math.max(1, count - ((await matchBacklog(bus)) ?? count));
  const after = await worker.stats();
  const server1 = processCpuMs(rig.server.pid());
  return {
    events: applied,
    cpuUsPerEvent: Math.round(((after.cpuMs - before.cpuMs) * 1_000) / applied),
    serverCpuUsPerEvent: Math.round(((server1 - server0) * 1_000) / applied),
    eventsPerSec: Math.round((applied * 1_000) / ms),
    rssMb: round(after.rssBytes / MB),
  };
}

export async function stateAtScale(o: BenchOptions): Promise<ScenarioResult> {
  const small = o.quick ? 1_000 : 10_000;
  // 1,000,000 takes minutes to store on a shared 2-core machine and the matcher then times out
  // (docs/performance.md): 250,000 keeps the full run within its 15 minutes.
  const large = o.quick ? 10_000 : 250_000;
  const perPhase = o.quick ? 200 : 5_000;
  const capMs = o.quick ? 3_000 : 30_000;
  const rig = await startRig();
  const { bus } = rig;
  const P = rig.config.partitions;
  const docs = Array.from({ length: JOURNEYS }, (_, k) => journey(text(k)));
  const random = (n: number): number => Math.floor(Math.random() * n);
  let fresh = 0;
  const freshOne = (): ReturnType<typeof matchEvent> => matchEvent(P, 'evt_0', `f${fresh++}`);
  const freshAny = (): ReturnType<typeof matchEvent> => {
    const n = fresh++;
    return matchEvent(P, `evt_${n % JOURNEYS}`, `f${n}`);
  };
  const seeded = (count: number) => (): ReturnType<typeof matchEvent> => {
    const i = random(count);
    return matchEvent(P, `evt_${i % JOURNEYS}`, `s${i}`);
  };
  let worker: Worker | undefined;
  try {
    o.note(`state: ${small} instances, matcher with 1 then ${JOURNEYS} journeys`);
    const seedSmallMs = await seed(bus, docs, 0, small);
    await publishJourneys(bus, text(0));
    worker = await startCairn(rig, ['matcher'], o.cpuProfDir);
    await phase(rig, worker, perPhase, capMs, freshOne); // warm-up
    const one = await phase(rig, worker, perPhase, capMs, freshOne);
    await publishJourneys(bus, ...docs.slice(1).map((_, k) => text(k + 1)));
    await phase(rig, worker, 200, capMs, freshAny); // the catalog has loaded the 99 new journeys
    const hundred = await phase(rig, worker, perPhase, capMs, freshAny);
    const atSmall = await phase(rig, worker, perPhase, capMs, seeded(small));
    await worker.stop();
    worker = undefined;

    o.note(`state: seeding up to ${large} instances`);
    const seedLargeMs = await seed(bus, docs, small, large);
    worker = await startCairn(rig, ['matcher']);
    await phase(rig, worker, 200, capMs, seeded(large)); // warm-up
    const atLarge = await phase(rig, worker, perPhase, capMs, seeded(large));
    const indexRatio = round(hundred.cpuUsPerEvent / Math.max(1, one.cpuUsPerEvent), 2);
    const rssGrowth = round(atLarge.rssMb / Math.max(1, atSmall.rssMb), 2);
    // RSS says nothing about a matcher that could not apply its inputs: that is a miss too.
    const stalled = atLarge.events < perPhase / 10;
    const met = !stalled && rssGrowth <= 1.25 && indexRatio <= 1.25;
    const atLargeText = stalled
      ? `STALLED at ${large}: ${atLarge.events} of ${perPhase} inputs applied in ${capMs / 1_000} s`
      : `per event matcher CPU ${atSmall.cpuUsPerEvent} -> ${atLarge.cpuUsPerEvent} us, nats-server CPU ${atSmall.serverCpuUsPerEvent} -> ${atLarge.serverCpuUsPerEvent} us, ${atSmall.eventsPerSec} -> ${atLarge.eventsPerSec} events/s`;
    return {
      name: 'state',
      figure: atLarge.rssMb,
      unit: `MB matcher RSS at ${large} instances`,
      extra: `${atSmall.rssMb} MB at ${small} (x${rssGrowth}); ${atLargeText}; ${JOURNEYS} journeys ${hundred.cpuUsPerEvent} us/event vs 1 journey ${one.cpuUsPerEvent} us (x${indexRatio})`,
      target: {
        text: 'matcher keeps applying and its RSS stays flat (<= 1.25x) from small to large; per-event cost flat with 100 journeys',
        met,
      },
      details: {
        small,
        large,
        perPhase,
        capMs,
        seedSmallMs,
        seedLargeMs,
        one,
        hundred,
        atSmall,
        atLarge,
        indexRatio,
        rssGrowth,
      },
    };
  } finally {
    await worker?.stop();
    await rig.close();
  }
}

// Scenario 8: what one shadow version adds per event. The forwarding journey (`trigger -> send`)
// takes bursts of new users' events in one run, alternately without and with a shadow of the
// same document (`publishShadowVersion`, then `archiveShadow`; before each burst, probe events
// until the matcher decides with, or without, the shadow). Each burst is timed from its first
// publish until the sink has every delivery, MATCH and SHADOW are empty and JOURNAL holds every decision
// (one message per event live, one more with the shadow: checked), and the CPU of the process
// under test and of nats-server is divided by the burst's events. The figure is the throughput with the shadow over that without (a ratio:
// the machine is shared, so absolute rates move between runs; the phases alternate so that a
// drift in load touches both alike).
import { archiveShadow, publishShadowVersion, STREAMS } from '../../libs/bus/index.js';
import { addWebhook, journey, publishJourneys, startCairn, startRig, type Rig } from '../cairn.js';
import { processCpuMs, sleep, waitFor } from '../env.js';
import { publishAll } from '../load.js';
import type { Worker } from '../child.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';
import { startSink, type Sink } from '../sink.js';
import { median, round } from '../stats.js';

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], payload: { sent_at: entry.properties.sent_at, form_id: entry.properties.form_id } }
`;

interface Burst {
  shadow: boolean;
  events: number;
  /** Messages the burst added to JOURNAL: one per event live, one more with the shadow. */
  journalMessages: number;
  ms: number;
  eventsPerSecond: number;
  /** Until the sink had every delivery: the live version's part (the shadow's runs apart). */
  liveMs: number;
  liveEventsPerSecond: number;
  /** CPU microseconds per event: the process under test, nats-server. */
  pipelineUs: number;
  natsServerUs: number;
}

/** How long a burst may take to reach the sink (the shared host can be very slow). */
const DRAIN_MS = 600_000;

let seq = 0;

const journalCount = async (rig: Rig): Promise<number> =>
  (await rig.bus.jsm.streams.info(STREAMS.JOURNAL)).state.messages;

/** Inputs not yet taken off MATCH (live) and SHADOW (the shadow's, forwarded by the live). */
const inputsLeft = async (rig: Rig): Promise<number> =>
  (await rig.bus.jsm.streams.info(STREAMS.MATCH)).state.messages +
  (await rig.bus.jsm.streams.info(STREAMS.SHADOW)).state.messages;

function formEvent(prefix: string) {
  const n = seq++;
  return {
    subject: 'events.track',
    data: JSON.stringify({
      type: 'track',
      event: 'form_submitted',
      userId: `${prefix}${n}`,
      messageId: `${prefix}${n}`,
      properties: { form_id: `f${n}`, sent_at: Date.now() },
    }),
  };
}

/** Sends one event at a time until the matcher decides it with (or without) the shadow: one
 * JOURNAL message per event live, two with the shadow. The head change reaches the worker by a
 * watch; a burst must not begin before it did. */
async function settle(rig: Rig, sink: Sink, shadow: boolean): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const before = await journalCount(rig);
    const target = sink.count + 1;
    await publishAll(rig.bus.js, 1, () => formEvent('probe'));
    const done = await waitFor(
      async () =>
        sink.count >= target &&
        (await inputsLeft(rig)) === 0 &&
        (await journalCount(rig)) - before >= (shadow ? 2 : 1),
      30_000,
      50,
    );
    if (done && (await journalCount(rig)) - before === (shadow ? 2 : 1)) return;
    await sleep(200);
  }
  throw new Error(`the matcher did not ${shadow ? 'take up' : 'drop'} the shadow`);
}

async function burst(rig: Rig, worker: Worker, sink: Sink, events: number, shadow: boolean): Promise<Burst> {
  const target = sink.count + events;
  const journal0 = await journalCount(rig);
  const expected = events * (shadow ? 2 : 1);
  const server0 = processCpuMs(rig.server.pid());
  const worker0 = (await worker.stats()).cpuMs;
  const started = Date.now();
  const live = waitFor(() => sink.count >= target, DRAIN_MS, 20).then(() => Date.now() - started);
  await publishAll(rig.bus.js, events, () => formEvent('s'));
  const done = await waitFor(
    async () =>
      sink.count >= target &&
      (await inputsLeft(rig)) === 0 &&
      (await journalCount(rig)) - journal0 >= expected,
    DRAIN_MS,
    50,
  );
  if (!done) {
    const left = await inputsLeft(rig);
    throw new Error(
      `burst of ${events} (${shadow ? 'with' : 'without'} a shadow) did not drain in ${DRAIN_MS / 1_000} s: ` +
        `${target - sink.count} deliveries missing, ${left} inputs on MATCH and SHADOW`,
    );
  }
  const ms = Date.now() - started;
  const liveMs = await live;
  const journalMessages = (await journalCount(rig)) - journal0;
  if (journalMessages !== expected) {
    throw new Error(
      `a burst of ${events} ${shadow ? 'with' : 'without'} a shadow wrote ${journalMessages} journal messages`,
    );
  }
  return {
    shadow,
    events,
    journalMessages,
    ms,
    eventsPerSecond: Math.round((events * 1_000) / ms),
    liveMs,
    liveEventsPerSecond: Math.round((events * 1_000) / liveMs),
    pipelineUs: Math.round((((await worker.stats()).cpuMs - worker0) * 1_000) / events),
    natsServerUs: Math.round(((processCpuMs(rig.server.pid()) - server0) * 1_000) / events),
  };
}

export async function shadowCost(o: BenchOptions): Promise<ScenarioResult> {
  const events = o.quick ? 500 : 3_000;
  const rounds = o.quick ? 1 : 3;
  const rig = await startRig();
  const sink = await startSink();
  await addWebhook(rig.bus, 'sink', `${sink.url}/hook`);
  const [doc] = await publishJourneys(rig.bus, FORWARD);
  const worker = await startCairn(rig, undefined, o.cpuProfDir);
  try {
    // A warm-up burst: connections, JIT, the first KV writes.
    await burst(rig, worker, sink, Math.min(events, 500), false);
    const bursts: Burst[] = [];
    for (let r = 0; r < rounds; r++) {
      o.note(`shadow: round ${r + 1}/${rounds}, without a shadow`);
      bursts.push(await burst(rig, worker, sink, events, false));
      await publishShadowVersion(rig.bus, journey(FORWARD));
      await settle(rig, sink, true);
      o.note(`shadow: round ${r + 1}/${rounds}, with one shadow`);
      bursts.push(await burst(rig, worker, sink, events, true));
      await archiveShadow(rig.bus, doc!.id);
      await settle(rig, sink, false);
    }
    const of = (shadow: boolean) => bursts.filter((b) => b.shadow === shadow);
    const ratios = of(false).map((b, i) => of(true)[i]!.eventsPerSecond / b.eventsPerSecond);
    const cpuRatios = of(false).map((b, i) => of(true)[i]!.pipelineUs / Math.max(1, b.pipelineUs));
    const natsRatios = of(false).map((b, i) => of(true)[i]!.natsServerUs / Math.max(1, b.natsServerUs));
    const liveRatios = of(false).map((b, i) => of(true)[i]!.liveEventsPerSecond / b.liveEventsPerSecond);
    const without = median(of(false).map((b) => b.eventsPerSecond));
    const withShadow = median(of(true).map((b) => b.eventsPerSecond));
    const ratio = round(median(ratios), 2);
    return {
      name: 'shadow',
      figure: ratio,
      unit: 'x forwarding throughput with one shadow',
      extra:
        `bursts of ${events} events, median of ${rounds}: ${withShadow} vs ${without} events/s; ` +
        `CPU per event x${round(median(cpuRatios), 2)} pipeline, x${round(median(natsRatios), 2)} nats-server ` +
        `(${median(of(true).map((b) => b.pipelineUs))} vs ${median(of(false).map((b) => b.pipelineUs))} us); ` +
        `live deliveries alone x${round(median(liveRatios), 2)}`,
      details: { bursts, ratios, cpuRatios, natsRatios, liveRatios },
    };
  } finally {
    await worker.stop();
    await sink.close();
    await rig.close();
  }
}

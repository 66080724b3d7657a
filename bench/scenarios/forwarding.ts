// Scenarios 1 and 2: the baseline pipeline and a `trigger -> send` journey, each driven at
// increasing rates until it stops keeping up; then event->sink latency at 1,000 events/s.
import { connectBus } from '../../libs/bus/index.js';
import { startWorker, type Worker } from '../child.js';
import { addWebhook, benchLogger, publishJourneys, startCairn, startRig } from '../cairn.js';
import { processCpuMs, startServer } from '../env.js';
import type { Outgoing } from '../load.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';
import { startSink, type Sink } from '../sink.js';
import { median, round } from '../stats.js';
import {
  ladder,
  runStep,
  stepUntilBehind,
  type StepPoint,
  type SteppingOptions,
  type SteppingResult,
} from '../stepping.js';

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], payload: { sent_at: entry.properties.sent_at, form_id: entry.properties.form_id } }
`;

const LATENCY_RATE = 1_000;

let seq = 0;
/** A Segment track event, a new user and form each time, stamped with its send time. */
function formEvent(subject: string, sentAt: number): Outgoing {
  const n = seq++;
  return {
    subject,
    data: JSON.stringify({
      type: 'track',
      event: 'form_submitted',
      userId: `u${n}`,
      messageId: `m${n}`,
      properties: { form_id: `f${n}`, sent_at: sentAt },
    }),
  };
}

function plan(o: BenchOptions) {
  return o.quick
    ? { rates: ladder(100, 2, 6_400), stepMs: 2_000, drainMs: 20_000, latencyMs: 2_000, latencyRuns: 1 }
    : { rates: ladder(100, 1.5, 20_000), stepMs: 8_000, drainMs: 120_000, latencyMs: 10_000, latencyRuns: 3 };
}

interface LatencyAt {
  p50: number;
  p99: number;
  max: number;
  /** 1,000 events/s is beyond the sustained rate: the figures are queueing, from one short run. */
  overCapacity: boolean;
  runs: StepPoint[];
}

/** Medians of runs at 1,000 events/s (after the stepping, which leaves the rig drained).
 * Beyond capacity, one short run only: its backlog would take minutes to drain. */
async function latencyAt(
  s: SteppingOptions,
  stepped: SteppingResult,
  p: ReturnType<typeof plan>,
): Promise<LatencyAt> {
  const overCapacity = stepped.maxSustained < LATENCY_RATE;
  const points: StepPoint[] = [];
  // A stepping that ended with a backlog it could not drain would only measure that backlog.
  const drained = stepped.points.every((x) => x.drained);
  const runs = !drained ? 0 : overCapacity ? 1 : p.latencyRuns;
  for (let i = 0; i < runs; i++) {
    const point = await runStep(
      s,
      LATENCY_RATE,
      overCapacity ? Math.min(p.latencyMs / 2, 3_000) : p.latencyMs,
    );
    points.push(point);
    if (!point.drained) break;
  }
  return {
    p50: median(points.map((x) => x.p50)),
    p99: median(points.map((x) => x.p99)),
    max: median(points.map((x) => x.max)),
    overCapacity,
    runs: points,
  };
}

function latencyText(l: LatencyAt, stepped: { points: StepPoint[]; maxSustained: number }): string {
  const over = l.overCapacity ? ' (over capacity)' : '';
  const at = `at ${LATENCY_RATE} events/s${over}: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`;
  const best = stepped.points.find((x) => x.offered === stepped.maxSustained);
  return best ? `${at}; at ${best.offered} events/s: p50 ${best.p50} ms, p99 ${best.p99} ms` : at;
}

/** CPU per delivered event of the process under test and of nats-server, over a phase. */
function costMeter(serverPid: number | undefined, worker: Worker, sink: Sink) {
  const server0 = processCpuMs(serverPid);
  const count0 = sink.count;
  const worker0 = worker.stats();
  return {
    async perEvent(): Promise<{ pipeline: number; natsServer: number }> {
      const n = Math.max(1, sink.count - count0);
      const w = (await worker.stats()).cpuMs - (await worker0).cpuMs;
      return {
        pipeline: Math.round((w * 1_000) / n),
        natsServer: Math.round(((processCpuMs(serverPid) - server0) * 1_000) / n),
      };
    },
  };
}

export async function baseline(o: BenchOptions): Promise<ScenarioResult> {
  const p = plan(o);
  const server = await startServer();
  const sink = await startSink();
  const bus = await connectBus({ url: server.url, name: 'bench', logger: benchLogger });
  const worker = await startWorker({
    env: { NATS_URL: server.url, BENCH_MODE: 'baseline', BENCH_SINK_URL: `${sink.url}/hook` },
  });
  try {
    const s: SteppingOptions = {
      js: bus.js,
      sink,
      rates: p.rates,
      stepMs: p.stepMs,
      drainMs: p.drainMs,
      make: (sentAt) => formEvent('bevents.track', sentAt),
      note: o.note,
    };
    o.note('baseline: stepping the offered load');
    const cost = costMeter(server.pid(), worker, sink);
    const stepped = await stepUntilBehind(s);
    o.note('baseline: latency at 1,000 events/s');
    const lat = await latencyAt(s, stepped, p);
    const cpu = await cost.perEvent();
    return {
      name: 'baseline',
      figure: stepped.maxSustained,
      unit: 'events/s',
      extra: `sustained; ${latencyText(lat, stepped)}; CPU per event: pipeline ${cpu.pipeline} us, nats-server ${cpu.natsServer} us`,
      details: { ...stepped, latency: lat, stepMs: p.stepMs, cpuUsPerEvent: cpu },
    };
  } finally {
    await worker.stop();
    await bus.close().catch(() => undefined);
    await sink.close();
    await server.stop();
  }
}

export async function forwarding(o: BenchOptions, base?: ScenarioResult): Promise<ScenarioResult> {
  const p = plan(o);
  const rig = await startRig();
  const sink = await startSink();
  await addWebhook(rig.bus, 'sink', `${sink.url}/hook`);
  await publishJourneys(rig.bus, FORWARD);
  const worker = await startCairn(rig, undefined, o.cpuProfDir);
  try {
    const s: SteppingOptions = {
      js: rig.bus.js,
      sink,
      rates: p.rates,
      stepMs: p.stepMs,
      drainMs: p.drainMs,
      make: (sentAt) => formEvent('events.track', sentAt),
      note: o.note,
    };
    o.note('forwarding: stepping the offered load');
    const cost = costMeter(rig.server.pid(), worker, sink);
    const stepped = await stepUntilBehind(s);
    o.note('forwarding: latency at 1,000 events/s');
    const lat = await latencyAt(s, stepped, p);
    const cpu = await cost.perEvent();
    const ratio = base && base.figure > 0 ? round(stepped.maxSustained / base.figure, 2) : undefined;
    const met = stepped.maxSustained >= 3_000 && (ratio ?? 0) >= 0.5 && lat.p99 < 50;
    return {
      name: 'forwarding',
      figure: stepped.maxSustained,
      unit: 'events/s',
      ...(ratio !== undefined && { ratio }),
      extra: `sustained; ${latencyText(lat, stepped)}; CPU per event: pipeline ${cpu.pipeline} us, nats-server ${cpu.natsServer} us`,
      target: { text: '>= 3,000 events/s, >= 0.5x baseline, p99 < 50 ms at 1,000/s', met },
      details: {
        ...stepped,
        latency: lat,
        stepMs: p.stepMs,
        cpuUsPerEvent: cpu,
        worker: await worker.stats(),
      },
    };
  } finally {
    await worker.stop();
    await sink.close();
    await rig.close();
  }
}

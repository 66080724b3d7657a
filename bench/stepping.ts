// Offered load stepped up until the pipeline stops keeping up (scenarios 1 and 2). A step keeps
// up when, as its publishing ends, less than one second's worth of its events is still on the
// way (the lag does not grow) and the generator really offered the rate.
import type { JetStreamClient } from '@nats-io/jetstream';

import { waitFor } from './env.js';
import { publishPaced, type Outgoing } from './load.js';
import type { Sink } from './sink.js';
import { summarize, type LatencySummary } from './stats.js';

export interface StepPoint extends LatencySummary {
  offered: number;
  achieved: number;
  /** Events published but not yet delivered when publishing ended. */
  backlogAtEnd: number;
  keptUp: boolean;
  drained: boolean;
}

export interface SteppingOptions {
  js: JetStreamClient;
  sink: Sink;
  /** Rates tried in order until one fails; then one more between the last pass and the fail. */
  rates: number[];
  stepMs: number;
  drainMs: number;
  make: (sentAt: number) => Outgoing;
  note: (text: string) => void;
}

export interface SteppingResult {
  points: StepPoint[];
  maxSustained: number;
}

export async function runStep(o: SteppingOptions, rate: number, durationMs = o.stepMs): Promise<StepPoint> {
  const { sink } = o;
  const before = sink.mark();
  const res = await publishPaced(o.js, rate, durationMs, () => o.make(Date.now()));
  const backlogAtEnd = Math.max(0, res.published - (sink.count - before));
  const drained = await waitFor(() => sink.count - before >= res.published, o.drainMs, 25);
  const point: StepPoint = {
    offered: rate,
    achieved: Math.round(res.achievedRate),
    backlogAtEnd,
    keptUp: backlogAtEnd <= rate && res.achievedRate >= 0.95 * rate && drained,
    drained,
    ...summarize(sink.latencies()),
  };
  o.note(
    `  ${rate}/s: offered ${point.achieved}/s, backlog ${backlogAtEnd}, p50 ${point.p50} ms, p99 ${point.p99} ms -> ${point.keptUp ? 'keeps up' : 'falls behind'}`,
  );
  return point;
}

export async function stepUntilBehind(o: SteppingOptions): Promise<SteppingResult> {
  const points: StepPoint[] = [];
  let best = 0;
  let failedAt: number | undefined;
  for (const rate of o.rates) {
    const p = await runStep(o, rate);
    points.push(p);
    if (!p.drained) return { points, maxSustained: best };
    if (!p.keptUp) {
      failedAt = rate;
      break;
    }
    best = rate;
  }
  if (failedAt !== undefined && best > 0 && points.at(-1)?.drained) {
    const mid = Math.round(Math.sqrt(best * failedAt) / 50) * 50;
    if (mid > best && mid < failedAt) {
      const p = await runStep(o, mid);
      points.push(p);
      if (p.keptUp) best = mid;
    }
  }
  return { points: points.sort((a, b) => a.offered - b.offered), maxSustained: best };
}

/** A geometric ladder from `start` by `factor`, rounded to 50, up to `max`. */
export function ladder(start: number, factor: number, max: number): number[] {
  const out: number[] = [];
  for (let r = start; r <= max; r *= factor) out.push(Math.round(r / 50) * 50);
  return out;
}

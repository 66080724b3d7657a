// Shared setup of the timer tests: a provisioned bus with 1 s buckets and 2 partitions, a
// collector of fired timers (match.*.timer) and helpers to publish timers and set the watermark.
import {
  BUCKETS,
  TimerMessage,
  WATERMARK_KEY,
  watermarkCodec,
  type TimerRecord,
} from '../../../libs/bus/index.js';
import { createMetrics, type Metrics } from '../../../libs/telemetry/index.js';
import { startTimer, type TimerOptions, type TimerService } from '../../../services/timer/index.js';
import { silentLogger, withBus, type TestBus } from '../../helpers/bus.js';

export interface Fired {
  timer: TimerRecord;
  subject: string;
  msgId: string;
  firedAt: number;
}

export interface TimerHarness extends TestBus {
  fired: Fired[];
  metrics: Metrics;
  start(opts?: TimerOptions): Promise<TimerService>;
  publishTimer(p: number, at: number, token: string): Promise<void>;
  setWatermark(at: number): Promise<void>;
  bucketOf(at: number): number;
}

export async function withTimers(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
): Promise<TimerHarness> {
  const tb = await withBus(t, { CAIRN_PARTITIONS: '2', CAIRN_TIMER_BUCKET: '1s', ...env });
  const fired: Fired[] = [];
  const sub = tb.bus.nc.subscribe('match.*.timer', {
    callback: (_err, m) => {
      fired.push({
        timer: TimerMessage.decode(m.data),
        subject: m.subject,
        msgId: m.headers?.get('Nats-Msg-Id') ?? '',
        firedAt: Date.now(),
      });
    },
  });
  t.teardown(() => sub.unsubscribe());
  await tb.bus.nc.flush();
  const metrics = createMetrics({ defaultMetrics: false });
  const state = await tb.bus.kv(BUCKETS.state);
  const width = tb.config.timerBucketMs;
  return {
    ...tb,
    fired,
    metrics,
    async start(opts = {}) {
      const svc = await startTimer({ config: tb.config, bus: tb.bus, logger: silentLogger, metrics }, opts);
      t.teardown(() => svc.stop(1_000));
      return svc;
    },
    async publishTimer(p, at, token) {
      const timer: TimerRecord = {
        v: 1,
        kind: 'timer',
        journeyId: 'j1',
        userKey: `user-${token}`,
        instanceKey: 'i1',
        token,
        at,
      };
      await tb.bus.js.publish(`timers.${p}.${Math.floor(at / width)}`, TimerMessage.encode(timer), {
        msgID: token,
      });
    },
    async setWatermark(at) {
      await state.put(WATERMARK_KEY, watermarkCodec.encode({ v: 1, at }));
    },
    bucketOf: (at) => Math.floor(at / width),
  };
}

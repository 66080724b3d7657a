// A `nats` destination: the JSON payload published on its subject, through JetStream (with
// Nats-Msg-Id = delivery id, so a stream drops a repeat) when a stream captures the subject,
// else as a core publish.
import { publishWithId, type Bus, type DeliverJob, type NatsDestination } from '../../libs/bus/index.js';
import { headers as natsHeaders } from '@nats-io/transport-node';

/** How long a "which stream holds this subject" answer is reused. */
export const STREAM_LOOKUP_TTL_MS = 30_000;

export class NatsPublisher {
  private readonly streams = new Map<string, { stream: string | undefined; until: number }>();

  constructor(private readonly bus: Bus) {}

  async publish(dest: NatsDestination, job: DeliverJob): Promise<{ stream?: string }> {
    const bytes = new TextEncoder().encode(JSON.stringify(job.payload));
    const stream = await this.streamOf(dest.subject);
    if (stream !== undefined) {
      await publishWithId(this.bus.js, dest.subject, bytes, job.deliveryId);
      return { stream };
    }
    const h = natsHeaders();
    h.set('Nats-Msg-Id', job.deliveryId);
    this.bus.nc.publish(dest.subject, bytes, { headers: h });
    await this.bus.nc.flush();
    return {};
  }

  private async streamOf(subject: string): Promise<string | undefined> {
    const now = Date.now();
    const known = this.streams.get(subject);
    if (known && known.until > now) return known.stream;
    let stream: string | undefined;
    try {
      stream = await this.bus.jsm.streams.find(subject);
    } catch (err) {
      if (!/no stream matches subject/i.test((err as Error).message)) throw err;
      stream = undefined;
    }
    this.streams.set(subject, { stream, until: now + STREAM_LOOKUP_TTL_MS });
    return stream;
  }
}

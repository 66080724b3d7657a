// Watches a cluster's own account of its streams (each node's monitoring endpoint, `/jsz`) while a
// scenario runs, to tell a loss Cairn caused from one the server caused. nats-server 2.9.10 can
// run a stream with two leaders for a while after a leader is SIGKILLed under load (each node
// names itself leader; publishes acknowledged by one are never delivered by a consumer reading
// the other: the server's own leader-transition desync, fixed in 2.11 — docs/reliability.md). The
// watcher records every poll in which two live nodes each claim to lead one stream, and, at the
// end, whether the replicas of a stream disagree on its last sequence once writes have stopped.
import type { NatsClusterHandle } from '../helpers/nats-cluster.js';

const POLL_MS = 250;

interface StreamView {
  leader: string | undefined;
  lastSeq: number;
}

/** One node's view of every stream it holds a replica of. */
async function viewOf(monitorUrl: string): Promise<Map<string, StreamView> | undefined> {
  try {
    const res = await fetch(`${monitorUrl}/jsz?accounts=true&streams=true`, {
      signal: AbortSignal.timeout(1_000),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as {
      account_details?: {
        stream_detail?: { name: string; cluster?: { leader?: string }; state?: { last_seq?: number } }[];
      }[];
    };
    const out = new Map<string, StreamView>();
    for (const account of body.account_details ?? [])
      for (const s of account.stream_detail ?? [])
        out.set(s.name, { leader: s.cluster?.leader, lastSeq: s.state?.last_seq ?? 0 });
    return out;
  } catch {
    return undefined; // a killed or busy node
  }
}

export interface SplitBrain {
  stream: string;
  /** The nodes that each named themselves leader. */
  leaders: string[];
  firstAt: number;
  lastAt: number;
  polls: number;
}

export interface ReplicaWatch {
  /** Streams that had two self-named leaders at once, with when. */
  splitBrains(): SplitBrain[];
  /** Streams whose replicas disagree on the last sequence now (call once writes have stopped). */
  divergence(): Promise<Record<string, Record<string, number>>>;
  stop(): void;
}

export function watchReplicas(cluster: NatsClusterHandle): ReplicaWatch {
  const found = new Map<string, SplitBrain>();
  let stopped = false;
  const poll = async (): Promise<void> => {
    const views = await Promise.all(
      cluster.monitorUrls.map((u, i) =>
        cluster.nodes[i]!.running() ? viewOf(u) : Promise.resolve(undefined),
      ),
    );
    const claims = new Map<string, string[]>();
    views.forEach((view, i) => {
      const me = cluster.names[i]!;
      for (const [stream, v] of view ?? []) {
        if (v.leader === me) claims.set(stream, [...(claims.get(stream) ?? []), me]);
      }
    });
    const now = Date.now();
    for (const [stream, leaders] of claims) {
      if (leaders.length < 2) continue;
      const key = `${stream} ${leaders.join('+')}`;
      const seen = found.get(key);
      if (seen) {
        seen.lastAt = now;
        seen.polls++;
      } else found.set(key, { stream, leaders, firstAt: now, lastAt: now, polls: 1 });
    }
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await poll();
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  void loop();
  return {
    splitBrains: () => [...found.values()],
    async divergence() {
      const views = await Promise.all(cluster.monitorUrls.map((u) => viewOf(u)));
      const byStream = new Map<string, Record<string, number>>();
      views.forEach((view, i) => {
        for (const [stream, v] of view ?? [])
          byStream.set(stream, { ...(byStream.get(stream) ?? {}), [cluster.names[i]!]: v.lastSeq });
      });
      const out: Record<string, Record<string, number>> = {};
      for (const [stream, seqs] of byStream) if (new Set(Object.values(seqs)).size > 1) out[stream] = seqs;
      return out;
    },
    stop() {
      stopped = true;
    },
  };
}

/** Canary subjects no Cairn consumer reads, one per stream whose loss would lose a delivery. */
export const CANARY_SUBJECTS: Record<string, string> = {
  MATCH: 'match.canary.x',
  TIMERS: 'timers.canary.x',
  DELIVER: 'deliver.canary',
};
const CANARY_EVERY_MS = 100;

export interface CanaryLoss {
  stream: string;
  acked: number;
  /** Acknowledged canaries the stream does not hold at the end. */
  lost: number;
  /** Canaries stored at another sequence than their acknowledgement said. */
  moved: number;
}

export interface Canaries {
  /** Stops publishing and reads every canary back: the streams that lost acknowledged ones. */
  check(): Promise<CanaryLoss[]>;
}

/**
 * Publishes a canary to each of MATCH, TIMERS and DELIVER every 100 ms for the whole run (each with
 * a Nats-Msg-Id, retried until acknowledged, as any producer would) and at the end reads them back:
 * an acknowledged canary that is not stored, or stored at another sequence, is the server losing
 * or re-sequencing acknowledged writes on that stream while the faults ran.
 */
export function startCanaries(bus: {
  js: {
    publish(
      subject: string,
      data: Uint8Array,
      opts: { msgID: string; timeout: number },
    ): Promise<{ seq: number }>;
  };
  jsm: {
    streams: {
      getMessage(
        stream: string,
        q: { seq: number },
      ): Promise<{ subject: string; header?: { get(k: string): string } } | null>;
    };
  };
}): Canaries {
  const acked = new Map<string, Map<string, number>>();
  let stopped = false;
  const loops = Object.entries(CANARY_SUBJECTS).map(async ([stream, subject]) => {
    const mine = new Map<string, number>();
    acked.set(stream, mine);
    for (let i = 0; !stopped; i++) {
      const id = `canary-${stream}-${i}`;
      for (let tries = 0; tries < 20 && !stopped; tries++) {
        try {
          const ack = await bus.js.publish(subject, new TextEncoder().encode(id), {
            msgID: id,
            timeout: 2_000,
          });
          mine.set(id, ack.seq);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await new Promise((r) => setTimeout(r, CANARY_EVERY_MS));
    }
  });
  let checked: Promise<CanaryLoss[]> | undefined;
  return {
    check() {
      return (checked ??= read());
    },
  };
  async function read(): Promise<CanaryLoss[]> {
    stopped = true;
    {
      await Promise.all(loops);
      const out: CanaryLoss[] = [];
      for (const [stream, mine] of acked) {
        let lost = 0;
        let moved = 0;
        for (const [id, seq] of mine) {
          let stored: string | undefined;
          let answered = false;
          for (let tries = 0; tries < 5 && !answered; tries++) {
            try {
              const m = await bus.jsm.streams.getMessage(stream, { seq });
              stored = m?.header?.get('Nats-Msg-Id');
              answered = true;
            } catch {
              await new Promise((r) => setTimeout(r, 200));
            }
          }
          if (!answered || stored === id) continue; // no answer is no evidence
          if (stored === undefined) lost++;
          else moved++;
        }
        if (lost + moved > 0) out.push({ stream, acked: mine.size, lost, moved });
      }
      return out;
    }
  }
}

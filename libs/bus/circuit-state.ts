// KV `cairn_state` keys `circuit.<destination>.<holder>`: each sender process's view of a
// destination's circuit breaker (services/sender/circuit.ts keeps it in memory). A sender writes
// its entry when the state changes and, while it is not closed, again every `everyMs`; a graceful
// stop deletes its entries. Readers (the admin API) ignore an entry not rewritten for 2 × its
// `everyMs`, so a crashed sender's `open` fades; with no live entry the circuit is `closed`
// while a sender holds a partition lease, else `unknown`.
import type { KV } from '@nats-io/kv';
import { z } from 'zod';

import type { Bus } from './connection.js';
import { listKvKeys } from './kv-keys.js';
import { LeaseSchema } from './lease.js';
import { BUCKETS } from './topology.js';

export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
export type CircuitStateName = (typeof CIRCUIT_STATES)[number];
/** What the admin API reports: the worst state across live senders, or `unknown`. */
export type CircuitView = CircuitStateName | 'unknown';

export const CircuitReportSchema = z.object({
  v: z.literal(1),
  state: z.enum(CIRCUIT_STATES),
  /** Since when (epoch ms, the sender's clock) the breaker has been in `state`. */
  since: z.number(),
  /** The sender process (a partition lease holder name, made key-safe). */
  holder: z.string().min(1),
  /** Failure rate of the breaker's window when written (0-1). */
  failureRate: z.number(),
  /** While open: when it lets a probe through (epoch ms). */
  until: z.number().optional(),
  /** How often the sender rewrites the entry while it is not closed. */
  everyMs: z.number().int().positive(),
});
export type CircuitReport = z.output<typeof CircuitReportSchema>;

export const CIRCUIT_KEY_PREFIX = 'circuit';
/** A holder name usable as one KV key token. */
export const circuitHolderToken = (holder: string): string => holder.replace(/[^-_=a-zA-Z0-9]/g, '_');
export const circuitKey = (destination: string, holder: string): string =>
  `${CIRCUIT_KEY_PREFIX}.${destination}.${circuitHolderToken(holder)}`;

export const encodeCircuitReport = (r: CircuitReport): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(r));

const RANK: Record<CircuitStateName, number> = { closed: 0, half_open: 1, open: 2 };

/** Does any sender hold a live partition lease (`sender.<p>`, renewed within its lifetime)? */
async function sendersLive(bus: Bus, now: number): Promise<boolean> {
  const kv = await bus.kv(BUCKETS.leases);
  for (const key of await listKvKeys(bus, BUCKETS.leases, 'sender.>')) {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT') continue;
    const lease = LeaseSchema.safeParse(JSON.parse(new TextDecoder().decode(e.value)) as unknown);
    if (lease.success && lease.data.released !== true && now - e.created.getTime() <= lease.data.ttlMs)
      return true;
  }
  return false;
}

async function liveReports(
  bus: Bus,
  kv: KV,
  filter: string,
  now: number,
): Promise<Map<string, CircuitStateName[]>> {
  const out = new Map<string, CircuitStateName[]>();
  for (const key of await listKvKeys(bus, BUCKETS.state, filter)) {
    const dest = key.split('.')[1];
    const e = await kv.get(key);
    if (dest === undefined || !e || e.operation !== 'PUT') continue;
    let r: CircuitReport;
    try {
      r = CircuitReportSchema.parse(JSON.parse(new TextDecoder().decode(e.value)));
    } catch {
      continue; // not a value this version understands: no claim about the circuit
    }
    if (now - e.created.getTime() > 2 * r.everyMs) continue; // its writer stopped rewriting it
    // Open past its cooldown lets a probe through: half-open, as the breaker counts it.
    const state = r.state === 'open' && r.until !== undefined && r.until <= now ? 'half_open' : r.state;
    out.set(dest, [...(out.get(dest) ?? []), state]);
  }
  return out;
}

/** The circuit of each of `destinations` across the live senders (see the file comment). */
export async function readCircuits(
  bus: Bus,
  destinations: readonly string[],
  now = Date.now(),
): Promise<Map<string, CircuitView>> {
  const kv = await bus.kv(BUCKETS.state);
  const filter =
    destinations.length === 1 ? `${CIRCUIT_KEY_PREFIX}.${destinations[0]}.>` : `${CIRCUIT_KEY_PREFIX}.>`;
  const [reports, live] = await Promise.all([liveReports(bus, kv, filter, now), sendersLive(bus, now)]);
  const out = new Map<string, CircuitView>();
  for (const id of destinations) {
    const states = reports.get(id) ?? [];
    if (states.length === 0) out.set(id, live ? 'closed' : 'unknown');
    else
      out.set(
        id,
        states.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'closed' as CircuitStateName),
      );
  }
  return out;
}

// Creates every stream and bucket of DESIGN.md §3, idempotently, at every start. Never deletes
// data: a stream that differs from the desired config gets its safe fields updated, and every
// difference is reported (and logged) for an operator to decide on the rest.
import { JetStreamApiError, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { Logger } from 'pino';

import type { Bus } from './connection.js';
import { BusCodes, BusError } from './errors.js';
import { desiredBuckets, desiredStreams, type DesiredStream, type TopologyConfig } from './topology.js';

export interface Drift {
  /** Stream name (a bucket's stream is `KV_<bucket>`). */
  resource: string;
  field: string;
  desired: unknown;
  actual: unknown;
  /** `updated`: changed to the desired value; `kept`: not safe to change automatically. */
  action: 'updated' | 'kept';
}

export interface ProvisionReport {
  created: string[];
  unchanged: string[];
  updated: string[];
  drift: Drift[];
}

/** Fields changed in place; the others (retention, storage, replicas) need an operator. */
const SAFE_FIELDS = new Set(['subjects', 'max_age', 'duplicate_window', 'discard', 'max_msgs_per_subject']);

export async function provision(bus: Bus, config: TopologyConfig, logger?: Logger): Promise<ProvisionReport> {
  const log = logger?.child({ component: 'provision' });
  const report: ProvisionReport = { created: [], unchanged: [], updated: [], drift: [] };
  try {
    for (const desired of desiredStreams(config)) {
      await ensureStream(bus, desired, report);
    }
    const kvm = new Kvm(bus.js);
    for (const b of desiredBuckets(config)) {
      const streamName = `KV_${b.name}`;
      const info = await streamInfo(bus, streamName);
      if (!info) {
        await kvm.create(b.name, { history: b.history, ttl: b.ttlMs, replicas: b.replicas });
        report.created.push(streamName);
        continue;
      }
      const wanted: Partial<StreamConfig> = {
        max_age: b.ttlMs * 1_000_000,
        max_msgs_per_subject: b.history,
        num_replicas: b.replicas,
      };
      await reconcile(bus, info, wanted, report);
    }
  } catch (err) {
    if (err instanceof BusError) throw err;
    throw new BusError(BusCodes.PROVISION_FAILED, `provisioning failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  for (const d of report.drift) log?.warn(d, 'stream config drift');
  log?.info({ created: report.created, updated: report.updated }, 'provisioned');
  return report;
}

async function streamInfo(bus: Bus, name: string): Promise<StreamInfo | undefined> {
  try {
    return await bus.jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059) return undefined;
    throw err;
  }
}

async function ensureStream(bus: Bus, desired: DesiredStream, report: ProvisionReport): Promise<void> {
  const info = await streamInfo(bus, desired.name);
  if (!info) {
    await bus.jsm.streams.add(desired);
    report.created.push(desired.name);
    return;
  }
  await reconcile(bus, info, desired, report);
}

async function reconcile(
  bus: Bus,
  info: StreamInfo,
  desired: Partial<StreamConfig>,
  report: ProvisionReport,
): Promise<void> {
  const name = info.config.name;
  const actual = info.config as unknown as Record<string, unknown>;
  const update: Record<string, unknown> = {};
  const drift: Drift[] = [];
  for (const [field, want] of Object.entries(desired)) {
    if (field === 'name') continue;
    const have = actual[field];
    if (field === 'subjects') {
      const haveList = (have as string[] | undefined) ?? [];
      const missing = (want as string[]).filter((s) => !haveList.includes(s));
      if (missing.length === 0) continue;
      // Add ours, keep any extra subject: removing one could strand stored messages.
      update[field] = [...haveList, ...missing];
    } else if (have === want) {
      continue;
    } else if (SAFE_FIELDS.has(field)) {
      update[field] = want;
    }
    drift.push({
      resource: name,
      field,
      desired: want,
      actual: have,
      action: field in update ? 'updated' : 'kept',
    });
  }
  if (Object.keys(update).length > 0) {
    await bus.jsm.streams.update(name, update);
    report.updated.push(name);
  } else if (drift.length === 0) {
    report.unchanged.push(name);
  }
  report.drift.push(...drift);
}

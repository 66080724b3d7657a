// One NATS connection per process, checked at start: JetStream enabled and a server recent
// enough for the v3 consumer API (2.9.4).
import { readFile } from 'node:fs/promises';

import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import {
  connect,
  credsAuthenticator,
  errors,
  nkeyAuthenticator,
  type Authenticator,
  type NatsConnection,
} from '@nats-io/transport-node';
import type { Logger } from 'pino';

import { coalesceWrites } from './coalesce.js';
import { BusCodes, BusError } from './errors.js';
import { LeanJetStream, type KvStore } from './lean.js';

export const MIN_SERVER_VERSION = '2.9.4';

export interface BusOptions {
  /** One URL or several, comma-separated. */
  url: string;
  /** Client name shown in the server's monitoring pages. */
  name: string;
  /** Path to a `.creds` file. */
  creds?: string;
  /** Path to a file holding an nkey seed (`SU…`). */
  nkey?: string;
  /** Prefix of this connection's reply subjects (default `_INBOX`). The shipped authorization
   * lets each Cairn user subscribe to its own prefix only (permissions.ts), so that no other
   * user can read its replies. */
  inboxPrefix?: string;
  logger: Logger;
  /** Handshake timeout of the first connect (ms, default 5000). */
  connectTimeoutMs?: number;
  /** Timeout of JetStream API calls and publish acks (ms, default 5000). */
  apiTimeoutMs?: number;
}

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  serverVersion: string;
  /** Opens an existing KV bucket (created by `provision`), cached per name. */
  kv(name: string): Promise<KV>;
  /** Publishes with acks and KV reads/writes for the hot path, without the client's per-request
   * costs (lean.ts). */
  lean: LeanJetStream;
  /** An existing KV bucket through `lean`, cached per name. Its reads see every acknowledged
   * write: answered by the bucket's stream leader, or by a direct get when the bucket has one
   * replica (lean.ts LeanKvOptions). The choice is made when the bucket is first opened: a
   * bucket's replicas changed later take effect at the service's next start. */
  store(name: string): Promise<KvStore>;
  /** Drains subscriptions and flushes, then closes. */
  close(): Promise<void>;
}

export async function connectBus(opts: BusOptions): Promise<Bus> {
  const log = opts.logger.child({ component: 'bus' });
  const servers = opts.url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const authenticator = await authenticatorOf(opts);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: opts.name,
      timeout: opts.connectTimeoutMs ?? 5_000,
      // After the first connect succeeds, never give up: a restarted server must not kill us.
      maxReconnectAttempts: -1,
      // Async stack traces cost a third of the client's CPU on hot paths (jetstream.md).
      noAsyncTraces: true,
      ...(authenticator ? { authenticator } : {}),
      ...(opts.inboxPrefix !== undefined ? { inboxPrefix: opts.inboxPrefix } : {}),
    });
  } catch (err) {
    if (err instanceof errors.AuthorizationError) {
      throw new BusError(
        BusCodes.UNAUTHORIZED,
        `NATS at ${opts.url} refused this client's credentials (${err.message}); set NATS_NKEY (or NATS_CREDS) to this service's credentials, see docs/security.md`,
        { cause: err },
      );
    }
    throw new BusError(
      BusCodes.UNREACHABLE,
      `cannot connect to NATS at ${opts.url} (${(err as Error).message}); start one with \`nats-server -js\` or set NATS_URL`,
      { cause: err },
    );
  }
  void watchStatus(nc, log);
  if (!coalesceWrites(nc)) {
    log.warn('this NATS client does not allow coalesced socket writes; it writes per microtask');
  }

  const apiTimeout = opts.apiTimeoutMs ?? 5_000;
  const serverVersion = nc.info?.version ?? '0.0.0';
  try {
    if (compareVersions(serverVersion, MIN_SERVER_VERSION) < 0) {
      throw new BusError(
        BusCodes.SERVER_TOO_OLD,
        `nats-server ${serverVersion} at ${opts.url} is older than ${MIN_SERVER_VERSION}; upgrade it (2.10+ for production)`,
      );
    }
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc, { timeout: apiTimeout });
      await jsm.getAccountInfo();
    } catch (err) {
      throw new BusError(
        BusCodes.JETSTREAM_DISABLED,
        `JetStream is not enabled on ${opts.url} (${(err as Error).message}); start nats-server with -js or enable jetstream for the account`,
        { cause: err },
      );
    }
    const js = jetstream(nc, { timeout: apiTimeout });
    const kvm = new Kvm(js);
    const buckets = new Map<string, Promise<KV>>();
    const stores = new Map<string, Promise<KvStore>>();
    const lean = new LeanJetStream(nc, {
      timeoutMs: apiTimeout,
      ...(opts.inboxPrefix !== undefined ? { inboxPrefix: opts.inboxPrefix } : {}),
    });
    const openKv = (name: string): Promise<KV> => {
      let kv = buckets.get(name);
      if (!kv) {
        kv = kvm.open(name);
        buckets.set(name, kv);
        // A failed open must not be cached forever.
        kv.catch(() => buckets.delete(name));
      }
      return kv;
    };

    log.info({ url: opts.url, serverVersion }, 'bus connected');
    return {
      nc,
      js,
      jsm,
      serverVersion,
      kv: openKv,
      lean,
      store(name) {
        let store = stores.get(name);
        if (!store) {
          store = jsm.streams.info(`KV_${name}`).then(({ config }) =>
            // One replica is the leader itself: its direct get sees every acknowledged write, for
            // about half the server's CPU of a message get. With more, a follower could answer.
            lean.kv(name, { reads: config.num_replicas === 1 && config.allow_direct ? 'direct' : 'leader' }),
          );
          stores.set(name, store);
          store.catch(() => stores.delete(name));
        }
        return store;
      },
      async close() {
        if (nc.isClosed()) return;
        await nc.drain();
        lean.close();
      },
    };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

/** The credentials and reply prefix of a Cairn process from its config: `role` is the user it
 * runs as (ingest, matcher, timer, sender, admin), which names its reply prefix. */
export function connectOptionsOf(
  config: { natsCreds?: string; natsNkey?: string },
  role: string,
): Pick<BusOptions, 'creds' | 'nkey' | 'inboxPrefix'> {
  return {
    inboxPrefix: inboxPrefixOf(role),
    ...(config.natsCreds !== undefined && { creds: config.natsCreds }),
    ...(config.natsNkey !== undefined && { nkey: config.natsNkey }),
  };
}

/** The reply prefix of a Cairn role: `_INBOX_cairn_<role>`. */
export function inboxPrefixOf(role: string): string {
  return `_INBOX_cairn_${role}`;
}

async function authenticatorOf(opts: BusOptions): Promise<Authenticator | undefined> {
  const read = async (what: string, file: string): Promise<Uint8Array> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new BusError(
        BusCodes.CREDENTIALS_UNREADABLE,
        `cannot read the NATS ${what} file ${file} (${(err as Error).message}); check the path and its permissions`,
        { cause: err },
      );
    }
  };
  if (opts.creds) return credsAuthenticator(await read('creds', opts.creds));
  if (opts.nkey) {
    const seed = new TextDecoder().decode(await read('nkey seed', opts.nkey)).trim();
    if (!/^SU[A-Z2-7]{56}$/.test(seed)) {
      throw new BusError(
        BusCodes.CREDENTIALS_UNREADABLE,
        `the NATS nkey seed file ${opts.nkey} does not hold a user seed (SU…); write it with \`cairn auth init\``,
      );
    }
    return nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  return undefined;
}

async function watchStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
      log.warn({ status: s.type, server: 'server' in s ? s.server : undefined }, 'nats connection status');
    }
  }
}

/** -1, 0 or 1 comparing dotted versions; pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('-')[0]!.split('.').map(Number);
  const pb = b.split('-')[0]!.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

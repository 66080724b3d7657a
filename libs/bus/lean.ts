// The hot path's JetStream calls — publish with an ack, and KV get / create / update / put —
// made over core NATS with one reply subscription, instead of the client's per-request
// machinery. Profiles showed that machinery to be most of the client's CPU per event: every
// `nc.request` builds a RequestError with a stack even on success, every KV miss throws two
// errors, and every request owns a timer (docs/performance.md). Here a request is a publish with
// a reply subject `<inbox>.<token>`, one map entry, and a sweep for timeouts; a KV miss is the
// server's "not found" answer, not an exception. A KV read is answered by the stream's leader, not
// by a follower that may lag, unless the bucket has one replica (LeanKvOptions): the hot path
// decides on what it reads.
//
// The semantics are the client's: the same headers (Nats-Msg-Id, Nats-Expected-Last-Subject-
// Sequence), the same errors for what callers branch on (JetStreamApiError with the server's
// code, TimeoutError, NoRespondersError, ClosedConnectionError), `create` over a deleted key as
// `@nats-io/kv` does it. Everything else (stream management, consumers, watches) stays on the
// client.
import { JetStreamApiError, type ApiError } from '@nats-io/jetstream';
import {
  createInbox,
  Empty,
  errors,
  headers as newHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';

export interface LeanPublishOptions {
  msgID?: string;
  headers?: MsgHdrs;
  /** Milliseconds to wait for the ack (default: the bus's API timeout). */
  timeout?: number;
  expect?: { lastSubjectSequence?: number };
}

export interface LeanPubAck {
  stream: string;
  seq: number;
  /** True when the stream had already stored a message with this Nats-Msg-Id. */
  duplicate: boolean;
}

/** What `publishWithId` and the hot path need from a JetStream client: `js` has it too. */
export interface Publisher {
  publish(subject: string, data: Uint8Array, opts?: LeanPublishOptions): Promise<LeanPubAck>;
}

interface Pending {
  resolve(msg: Msg): void;
  reject(err: Error): void;
  deadline: number;
  subject: string;
}

const utf8 = new TextDecoder();

/** How often expired requests are looked for; a timeout fires at most this late. */
const SWEEP_MS = 100;

export class LeanJetStream implements Publisher {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  readonly #timeoutMs: number;
  readonly #sweeper: NodeJS.Timeout;
  #next = 0;
  #closed = false;

  constructor(nc: NatsConnection, opts: { timeoutMs: number; inboxPrefix?: string }) {
    this.#nc = nc;
    this.#timeoutMs = opts.timeoutMs;
    this.#prefix = `${createInbox(opts.inboxPrefix)}.`;
    nc.subscribe(`${this.#prefix}*`, {
      callback: (err, msg) => {
        if (!err) this.#onReply(msg);
      },
    });
    void nc.closed().then(() => this.close());
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
    this.#sweeper.unref();
  }

  /** Requests in flight (for tests and metrics). */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** A core-NATS request on the shared reply subscription. */
  request(subject: string, data: Uint8Array, hdrs?: MsgHdrs, timeoutMs?: number): Promise<Msg> {
    if (this.#closed) return Promise.reject(new errors.ClosedConnectionError());
    const token = (this.#next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      this.#pending.set(token, {
        resolve,
        reject,
        deadline: Date.now() + (timeoutMs ?? this.#timeoutMs),
        subject,
      });
      try {
        this.#nc.publish(subject, data, { reply: this.#prefix + token, ...(hdrs ? { headers: hdrs } : {}) });
      } catch (err) {
        this.#pending.delete(token);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** A JetStream publish: resolves with the stream's ack, rejects with its error. */
  async publish(subject: string, data: Uint8Array, opts: LeanPublishOptions = {}): Promise<LeanPubAck> {
    let hdrs = opts.headers;
    if (opts.msgID !== undefined) (hdrs ??= newHeaders()).set('Nats-Msg-Id', opts.msgID);
    const last = opts.expect?.lastSubjectSequence;
    if (last !== undefined) (hdrs ??= newHeaders()).set('Nats-Expected-Last-Subject-Sequence', `${last}`);
    const reply = await this.request(subject, data, hdrs, opts.timeout);
    const ack = JSON.parse(utf8.decode(reply.data)) as {
      stream?: string;
      seq?: number;
      duplicate?: boolean;
      error?: ApiError;
    };
    if (ack.error) throw new JetStreamApiError(ack.error);
    if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number') {
      throw new Error(`publish to ${subject}: not a JetStream ack`);
    }
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
  }

  /** A KV bucket through this client (the bucket must exist). */
  kv(bucket: string, opts?: LeanKvOptions): LeanKv {
    return new LeanKv(this, bucket, opts);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const p of this.#pending.values()) p.reject(new errors.ClosedConnectionError());
    this.#pending.clear();
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const p = this.#pending.get(token);
    if (!p) return; // timed out already
    this.#pending.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new errors.NoRespondersError(p.subject));
    else p.resolve(msg);
  }

  #sweep(): void {
    if (this.#pending.size === 0) return;
    const now = Date.now();
    for (const [token, p] of this.#pending) {
      if (p.deadline > now) continue;
      this.#pending.delete(token);
      p.reject(new errors.TimeoutError());
    }
  }
}

/** An entry of a KV bucket, as much of `@nats-io/kv`'s KvEntry as Cairn reads. */
export interface KvRecord {
  key: string;
  value: Uint8Array;
  revision: number;
  operation: 'PUT' | 'DEL' | 'PURGE';
}

/** The KV operations of the hot path: `LeanKv`, or `@nats-io/kv`'s KV (it has them too). */
export interface KvStore {
  get(key: string): Promise<KvRecord | null>;
  create(key: string, value: Uint8Array): Promise<number>;
  update(key: string, value: Uint8Array, revision: number): Promise<number>;
  put(key: string, value: Uint8Array): Promise<number>;
}

const KEY = /^[-/=\w]+(\.[-/=\w]+)*$/;

/** Wrong last sequence on a create: the key exists (or existed, as a delete marker). */
const WRONG_LAST_SEQUENCE = 10071;
/** A message get that found nothing: the key was never written (or its entries expired). */
const NO_MESSAGE_FOUND = 10037;

const utf8Encoder = new TextEncoder();

/** The KV operation in a stored message's header block (`KV-Operation: DEL|PURGE`; none is PUT). */
function operationOf(headerBlock: string): KvRecord['operation'] {
  const op = /\r\nKV-Operation:\s*(\w+)/i.exec(headerBlock)?.[1]?.toUpperCase();
  return op === 'DEL' || op === 'PURGE' ? op : 'PUT';
}

export interface LeanKvOptions {
  /**
   * Who answers `get` (default `leader`): the stream's leader (`$JS.API.STREAM.MSG.GET`), which
   * has applied every write it acknowledged; or `direct`, a direct get any replica may answer —
   * about half the server's CPU per read, and exact only when the bucket has one replica (and no
   * mirror that serves direct gets). A follower can lag the last acknowledged write: a decision
   * taken on its answer ("no instance", "not sent yet") is wrong, and nothing catches it when the
   * decision writes nothing.
   */
  reads?: 'leader' | 'direct';
}

export class LeanKv implements KvStore {
  readonly bucket: string;
  readonly reads: 'leader' | 'direct';
  readonly #js: LeanJetStream;
  readonly #stream: string;

  constructor(js: LeanJetStream, bucket: string, opts: LeanKvOptions = {}) {
    this.#js = js;
    this.bucket = bucket;
    this.reads = opts.reads ?? 'leader';
    this.#stream = `KV_${bucket}`;
  }

  /** The key's latest entry (see LeanKvOptions.reads for who answers). */
  get(key: string): Promise<KvRecord | null> {
    return this.reads === 'leader' ? this.#getFromLeader(key) : this.#getDirect(key);
  }

  async #getDirect(key: string): Promise<KvRecord | null> {
    const subject = this.#subject(key);
    const reply = await this.#js.request(`$JS.API.DIRECT.GET.${this.#stream}.${subject}`, Empty);
    const h = reply.headers;
    if (h && h.code !== 0) {
      if (h.code === 404) return null;
      throw new Error(`kv ${this.bucket}/${key}: ${h.code} ${h.description}`);
    }
    const revision = Number(h?.get('Nats-Sequence'));
    if (!h || !Number.isInteger(revision) || h.get('Nats-Subject') !== subject) {
      throw new Error(`kv ${this.bucket}/${key}: not a direct get reply`);
    }
    const op = h.get('KV-Operation');
    return { key, value: reply.data, revision, operation: op === 'DEL' || op === 'PURGE' ? op : 'PUT' };
  }

  async #getFromLeader(key: string): Promise<KvRecord | null> {
    const subject = this.#subject(key);
    const reply = await this.#js.request(
      `$JS.API.STREAM.MSG.GET.${this.#stream}`,
      this.#lastBySubject(subject),
    );
    const answer = JSON.parse(utf8.decode(reply.data)) as {
      message?: { subject?: string; seq?: number; hdrs?: string; data?: string };
      error?: ApiError;
    };
    if (answer.error) {
      if (answer.error.err_code === NO_MESSAGE_FOUND) return null;
      throw new JetStreamApiError(answer.error);
    }
    const m = answer.message;
    if (!m || m.subject !== subject || typeof m.seq !== 'number') {
      throw new Error(`kv ${this.bucket}/${key}: not a message get reply`);
    }
    return {
      key,
      value: m.data ? Buffer.from(m.data, 'base64') : Empty,
      revision: m.seq,
      operation: m.hdrs ? operationOf(Buffer.from(m.hdrs, 'base64').toString('latin1')) : 'PUT',
    };
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.update(key, value, 0);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== WRONG_LAST_SEQUENCE) throw err;
      // A deleted or purged key may be created again, at its marker's revision.
      const current = await this.get(key);
      if (current && current.operation !== 'PUT') return this.update(key, value, current.revision);
      throw err;
    }
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number> {
    const ack = await this.#js.publish(this.#subject(key), value, {
      expect: { lastSubjectSequence: revision },
    });
    return ack.seq;
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    return (await this.#js.publish(this.#subject(key), value)).seq;
  }

  #lastBySubject(subject: string): Uint8Array {
    return utf8Encoder.encode(`{"last_by_subj":"${subject}"}`);
  }

  #subject(key: string): string {
    if (!KEY.test(key)) throw new Error(`kv ${this.bucket}: invalid key '${key}'`);
    return `$KV.${this.bucket}.${key}`;
  }
}

// Environment -> typed Config, parsed once at the edge (STYLE.md rule 8). Every variable is
// described once in SETTINGS, which also feeds docs/configuration.md and its test.
import { z } from 'zod';

import { parseCidr, type Cidr } from './cidr.js';
import { parseDurationMs } from './duration.js';
import { ConfigError, type ConfigIssue } from './errors.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface WriteKey {
  key: string;
  /** The source the key belongs to, when written as `key:source`. */
  source?: string;
}

/** A bearer token of the admin HTTP API (`name:role:token`). */
export interface AdminToken {
  /** Who the token belongs to: recorded in the audit stream. */
  name: string;
  role: 'read' | 'write';
  token: string;
}

export interface Config {
  natsUrl: string;
  natsCreds?: string;
  /** Path to a file holding a NATS nkey seed (`SU…`): the user's credentials. */
  natsNkey?: string;
  partitions: number;
  httpPort: number;
  metricsPort: number;
  /** Period of the gauges read from the server (consumer lag, DLQ depth, timers pending). */
  metricsIntervalMs: number;
  writeKeys: WriteKey[];
  /** Admin HTTP API (services/admin): its port, address, bearer tokens and allowed CORS origins. */
  adminPort: number;
  adminHost: string;
  adminTokens: AdminToken[];
  adminCorsOrigins: string[];
  /** HTTP API: time a client gets to send its request line and headers. */
  httpHeadersTimeoutMs: number;
  /** HTTP API: time a client gets to send a whole request, body included. */
  httpRequestTimeoutMs: number;
  /** HTTP API: open connections at most; more are closed at once. */
  httpMaxConnections: number;
  /** HTTP API: open connections at most from one client address (0: no per-address cap). */
  httpMaxConnectionsPerIp: number;
  /** How long ingest remembers a messageId to drop a repeat (0: only the stream dedupe window). */
  ingestDedupeWindowMs: number;
  /** A YAML/JSON file of computed audiences, `{ audiences: [{ id, where }] }`. */
  audiencesFile?: string;
  logLevel: LogLevel;
  replicas: number;
  /** This replica's ordinal i of `instances` (partition ownership). */
  ordinal: number;
  instances: number;
  /** How long a partition lease lasts without renewal (libs/bus lease.ts). */
  leaseTtlMs: number;
  /** Number S of ingest shards: shard s handles the events of partitions p with p mod S == s. */
  ingestShards: number;
  /** This ingest process's shard s of `ingestShards`; undefined when CAIRN_INGEST_SHARD is unset
   * and HOSTNAME gives no ordinal below `ingestShards` (ingest refuses to start then). */
  ingestShard?: number;
  timerBucketMs: number;
  shutdownGraceMs: number;
  maxDeliver: number;
  /** Consumer ack wait: redelivery after a crash. */
  ackWaitMs: number;
  /** The offset from the NATS server's clock above which a host is reported as skewed. */
  maxClockSkewMs: number;
  eventsMaxAgeMs: number;
  dedupeWindowMs: number;
  idempotencyWindowMs: number;
  /** How long an ended instance is kept whole before it is removed (`once`: compacted). */
  instanceRetentionMs: number;
  sendTimeoutMs: number;
  egressAllowLoopback: boolean;
  /** Networks webhooks may not reach (SSRF guard), unless also in `egressAllow`. */
  egressDeny: Cidr[];
  /** Networks webhooks may reach even when `egressDeny` covers them (an internal CRM). */
  egressAllow: Cidr[];
}

interface Setting {
  variable: string;
  default: string | undefined;
  description: string;
  hint: string;
  schema: z.ZodType<unknown, string>;
  /** Holds secrets: an error names the entry at fault, never the value. */
  secret?: boolean;
}

const int = (min: number, max: number): z.ZodType<number, string> =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'is not a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` }),
    );

const duration = (minMs: number, maxMs: number): z.ZodType<number, string> =>
  z.string().transform((raw, ctx) => {
    const ms = parseDurationMs(raw);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} is not a duration` });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `${raw} is out of range` });
      return z.NEVER;
    }
    return ms;
  });

const bool: z.ZodType<boolean, string> = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ['true', 'false', '1', '0', 'yes', 'no'].includes(s), { error: 'is not a boolean' })
  .transform((s) => s === 'true' || s === '1' || s === 'yes');

const KEY_PART = /^[A-Za-z0-9_.\-/+=]+$/;
const writeKeys: z.ZodType<WriteKey[], string> = z.string().transform((raw, ctx) => {
  const out: WriteKey[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key = '', source, extra] = item.split(':');
    if (!KEY_PART.test(key) || extra !== undefined || (source !== undefined && !KEY_PART.test(source))) {
      ctx.addIssue({ code: 'custom', message: `entry ${JSON.stringify(item)} is malformed` });
      continue;
    }
    out.push(source === undefined ? { key } : { key, source });
  }
  return out;
});

const TOKEN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const TOKEN = /^[A-Za-z0-9_.\-/+=~]{16,256}$/;
const adminTokens: z.ZodType<AdminToken[], string> = z.string().transform((raw, ctx) => {
  const out: AdminToken[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name = '', role = '', token = '', extra] = item.split(':');
    // Never echo the token itself into an error message.
    const shown = JSON.stringify(`${name}:${role}:…`);
    if (extra !== undefined || !TOKEN_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', message: `entry ${shown} is not name:role:token` });
    } else if (role !== 'read' && role !== 'write') {
      // A missing role would put the token here: never show it.
      ctx.addIssue({
        code: 'custom',
        message: `entry ${JSON.stringify(`${name}:…`)} has no role read or write`,
      });
    } else if (!TOKEN.test(token)) {
      ctx.addIssue({ code: 'custom', message: `entry ${shown} has a token shorter than 16 characters` });
    } else out.push({ name, role, token });
  }
  if (new Set(out.map((t) => t.name)).size !== out.length)
    ctx.addIssue({ code: 'custom', message: 'two entries have the same name' });
  return out;
});

const origins: z.ZodType<string[], string> = z.string().transform((raw, ctx) => {
  const out: string[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (/^https?:\/\/[^/\s]+$/.test(item)) out.push(item);
    else ctx.addIssue({ code: 'custom', message: `entry ${JSON.stringify(item)} is not an origin` });
  }
  return out;
});

const DAY = 86_400_000;

/** The networks no webhook may reach by default: loopback, private, link-local, CGNAT,
 * unspecified and unique-local addresses. */
export const DEFAULT_EGRESS_DENY =
  '0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,192.168.0.0/16,::/128,::1/128,fc00::/7,fe80::/10';

const cidrList: z.ZodType<Cidr[], string> = z.string().transform((raw, ctx) => {
  const out: Cidr[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const cidr = parseCidr(item);
    if (cidr) out.push(cidr);
    else
      ctx.addIssue({
        code: 'custom',
        message: `entry ${JSON.stringify(item)} is not a network like 10.0.0.0/8`,
      });
  }
  return out;
});

export const SETTINGS: readonly Setting[] = [
  {
    variable: 'NATS_URL',
    default: 'nats://127.0.0.1:4222',
    description: 'NATS server URL(s), comma-separated.',
    hint: 'set a URL like nats://host:4222',
    schema: z
      .string()
      .trim()
      .regex(/^(nats|tls|ws|wss):\/\/[^\s]+$/, { error: 'is not a nats:// URL' }),
  },
  {
    variable: 'NATS_CREDS',
    default: undefined,
    description: 'Path to a NATS `.creds` file (JWT + nkey), when the server requires it.',
    hint: 'point it to a readable .creds file or unset it',
    schema: z.string().trim().min(1),
  },
  {
    variable: 'NATS_NKEY',
    default: undefined,
    description:
      "Path to a file holding the nkey seed (`SU…`) of this process's NATS user, when the server requires it (`cairn auth init` writes one per service; docs/security.md).",
    hint: 'point it to a readable seed file written by `cairn auth init`, or unset it',
    schema: z.string().trim().min(1),
  },
  {
    variable: 'CAIRN_PARTITIONS',
    default: '16',
    description: 'Number of user partitions P. Fixed at install: changing it remaps users.',
    hint: 'use a whole number from 1 to 1024 (default 16)',
    schema: int(1, 1024),
  },
  {
    variable: 'CAIRN_HTTP_PORT',
    default: '8088',
    description: 'Port of the ingest HTTP API (Segment Tracking API).',
    hint: 'use a port from 0 to 65535',
    schema: int(0, 65_535),
  },
  {
    variable: 'CAIRN_METRICS_PORT',
    default: '9464',
    description: 'Port of /metrics, /healthz and /readyz.',
    hint: 'use a port from 0 to 65535',
    schema: int(0, 65_535),
  },
  {
    variable: 'CAIRN_METRICS_INTERVAL',
    default: '10s',
    description:
      'How often each process reads the gauges it exports from the NATS server: consumer lag of the consumers it owns, DLQ depth, timers pending (docs/operations.md).',
    hint: 'use a duration from 1s to 5m, e.g. 10s',
    schema: duration(1_000, 300_000),
  },
  {
    variable: 'CAIRN_WRITE_KEYS',
    default: '',
    description:
      'Accepted write keys, comma-separated, each `key` or `key:source`. Empty: no key is accepted on HTTP.',
    hint: 'write e.g. abc123:web,def456:ios',
    schema: writeKeys,
  },
  {
    variable: 'CAIRN_ADMIN_PORT',
    default: '8090',
    description:
      'Port of the admin HTTP API and the web console (services/admin, docs/console.md); never the ingest port.',
    hint: 'use a port from 0 to 65535, other than CAIRN_HTTP_PORT',
    schema: int(0, 65_535),
  },
  {
    variable: 'CAIRN_ADMIN_HOST',
    default: '127.0.0.1',
    description:
      'Address the admin HTTP API listens on: loopback by default; `0.0.0.0` to reach it from other hosts (in a container).',
    hint: 'use an IP address such as 127.0.0.1 or 0.0.0.0',
    schema: z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F.:]+$/, { error: 'is not an IP address' }),
  },
  {
    variable: 'CAIRN_ADMIN_TOKENS',
    default: '',
    description:
      'Bearer tokens of the admin HTTP API, comma-separated, each `name:role:token` with role `read` or `write` and a token of 16–256 characters. Empty: every request gets 401.',
    hint: 'write e.g. ops:write:<32 random characters>,dash:read:<32 random characters> (openssl rand -hex 16)',
    schema: adminTokens,
    secret: true,
  },
  {
    variable: 'CAIRN_ADMIN_CORS_ORIGINS',
    default: '',
    description:
      'Origins allowed to call the admin HTTP API from a browser page served elsewhere (CORS), comma-separated, e.g. `https://console.example.com`. Empty: no CORS headers, only same-origin pages.',
    hint: 'write origins like https://console.example.com, comma-separated',
    schema: origins,
  },
  {
    variable: 'CAIRN_HTTP_HEADERS_TIMEOUT',
    default: '10s',
    description:
      'Time an HTTP client gets to send its request line and headers; a slower one gets 408 and is disconnected.',
    hint: 'use a duration from 1s to 5m, not above CAIRN_HTTP_REQUEST_TIMEOUT, e.g. 10s',
    schema: duration(1_000, 300_000),
  },
  {
    variable: 'CAIRN_HTTP_REQUEST_TIMEOUT',
    default: '30s',
    description:
      'Time an HTTP client gets to send a whole request, body included; a slower one gets 408 and is disconnected.',
    hint: 'use a duration from 1s to 10m, e.g. 30s',
    schema: duration(1_000, 600_000),
  },
  {
    variable: 'CAIRN_HTTP_MAX_CONNECTIONS',
    default: '4096',
    description: 'Open HTTP connections the ingest API keeps at most; more are closed as they arrive.',
    hint: 'use a whole number from 1 to 1000000',
    schema: int(1, 1_000_000),
  },
  {
    variable: 'CAIRN_HTTP_MAX_CONNECTIONS_PER_IP',
    default: '256',
    description:
      'Open HTTP connections the ingest API keeps at most from one client address; more are closed as they arrive. 0: no per-address cap (behind a proxy that is the only client).',
    hint: 'use a whole number from 0 to 1000000',
    schema: int(0, 1_000_000),
  },
  {
    variable: 'CAIRN_INGEST_DEDUPE_WINDOW',
    default: '24h',
    description:
      "How long ingest remembers a messageId to drop a repeat (KV `ingest_dedupe`), beyond the streams' duplicate window. 0s: the stream window only.",
    hint: 'use a duration from 0s to 30d, e.g. 24h',
    schema: duration(0, 30 * DAY),
  },
  {
    variable: 'CAIRN_AUDIENCES_FILE',
    default: undefined,
    description:
      'YAML or JSON file of computed audiences (`audiences: [{ id, where }]`, conditions over `traits.*`), evaluated on every identify.',
    hint: 'point it to a readable audiences file or unset it',
    schema: z.string().trim().min(1),
  },
  {
    variable: 'CAIRN_LOG_LEVEL',
    default: 'info',
    description: 'Log level: fatal, error, warn, info, debug, trace or silent.',
    hint: 'use one of fatal, error, warn, info, debug, trace, silent',
    schema: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  },
  {
    variable: 'CAIRN_REPLICAS',
    default: '1',
    description: 'Replicas of every stream and bucket (3 in production clusters).',
    hint: 'use 1, 3 or 5',
    schema: int(1, 5),
  },
  {
    variable: 'CAIRN_INSTANCES',
    default: '1',
    description:
      'Number N of matcher, timer or sender replicas sharing the partitions (set on the stage it sizes).',
    hint: 'use a whole number >= 1 (the StatefulSet replicas)',
    schema: int(1, 1024),
  },
  {
    variable: 'CAIRN_ORDINAL',
    default: undefined,
    description:
      "This replica's ordinal i (0-based): it owns partitions p with p mod N == i. Derived from a StatefulSet HOSTNAME like `cairn-matcher-2` when unset.",
    hint: 'set a whole number below CAIRN_INSTANCES, or run in a StatefulSet',
    schema: int(0, 1023),
  },
  {
    variable: 'CAIRN_LEASE_TTL',
    default: '10s',
    description:
      'Lifetime of a partition lease (KV `cairn_leases`) of the matcher, timer and sender: a replica consumes a partition only while it holds its lease, renews it every quarter of this, and stops consuming it when a renewal has not succeeded for 4/5 of it. After a replica dies without releasing, another takes its partitions between 0.95 and 1.7 times it later (docs/architecture.md, Partition leases).',
    hint: 'use a duration from 1s to 10m, e.g. 10s',
    schema: duration(1_000, 600_000),
  },
  {
    variable: 'CAIRN_INGEST_SHARDS',
    default: '1',
    description:
      "Number S of ingest shards. Each shard reads every event of EVENTS (its own durable consumer) and routes those of partitions p with p mod S == s; set the same value on every service (the timer reads each shard's watermark).",
    hint: 'use a whole number from 1 to CAIRN_PARTITIONS',
    schema: int(1, 1024),
  },
  {
    variable: 'CAIRN_INGEST_SHARD',
    default: undefined,
    description:
      "This ingest process's shard s (0-based), below CAIRN_INGEST_SHARDS. Derived from a StatefulSet HOSTNAME like `cairn-ingest-1` when unset; ingest refuses to start with more than one shard and neither.",
    hint: 'set a whole number below CAIRN_INGEST_SHARDS, or run in a StatefulSet',
    schema: int(0, 1023),
  },
  {
    variable: 'CAIRN_TIMER_BUCKET',
    default: '5s',
    description: 'Width of a timer bucket (`timers.<p>.<bucket>`).',
    hint: 'use a duration from 1s to 1h, e.g. 5s',
    schema: duration(1_000, 3_600_000),
  },
  {
    variable: 'CAIRN_SHUTDOWN_GRACE',
    default: '10s',
    description: "Time in-flight work gets to finish on SIGTERM before the rest is nak'd.",
    hint: 'use a duration from 0s to 10m, e.g. 10s',
    schema: duration(0, 600_000),
  },
  {
    variable: 'CAIRN_MAX_DELIVER',
    default: '10',
    description:
      'Attempts a message gets (runs of its handler) before it goes to the DLQ with reason max_deliver. The server delivery count, which also counts redeliveries that were no run, stands in for a message this process has not run yet.',
    hint: 'use a whole number from 1 to 10000',
    schema: int(1, 10_000),
  },
  {
    variable: 'CAIRN_ACK_WAIT',
    default: '30s',
    description:
      'How long a consumer waits for the ack of a message in flight before redelivering it: the recovery time after a crash. Work still in progress is kept alive by heartbeats.',
    hint: 'use a duration from 1s to 1h, e.g. 30s',
    schema: duration(1_000, 3_600_000),
  },
  {
    variable: 'CAIRN_MAX_CLOCK_SKEW',
    default: '1s',
    description:
      "How far a host's clock may be off the NATS server's (whose clock stamps receive times) before ingest and the timer log an error and set `cairn_clock_skew_exceeded`. They measure the offset at start and every 30 s and correct for it, so timers stay on time either way; a clock that far off tends to step, and a step is corrected only at the next measurement.",
    hint: 'use a duration from 10ms to 1h, e.g. 1s',
    schema: duration(10, 3_600_000),
  },
  {
    variable: 'CAIRN_EVENTS_MAX_AGE',
    default: '7d',
    description: 'Retention of stream EVENTS (the replay log).',
    hint: 'use a duration from 1m to 3650d, e.g. 7d',
    schema: duration(60_000, 3_650 * DAY),
  },
  {
    variable: 'CAIRN_DEDUPE_WINDOW',
    default: '2m',
    description: 'Duplicate window of the streams (Nats-Msg-Id dedupe).',
    hint: 'use a duration from 1s to 1d, e.g. 2m',
    schema: duration(1_000, DAY),
  },
  {
    variable: 'CAIRN_IDEMPOTENCY_WINDOW',
    default: '7d',
    description: 'How long a delivery id is remembered (KV `sent` max age).',
    hint: 'use a duration from 1m to 365d, e.g. 7d',
    schema: duration(60_000, 365 * DAY),
  },
  {
    variable: 'CAIRN_INSTANCE_RETENTION',
    default: '7d',
    description:
      'How long a completed or exited instance is kept whole in KV `instances`; then the matcher removes it, or, for an `entry: once` journey, keeps only a compact record that refuses re-entry.',
    hint: 'use a duration from 1s to 3650d, e.g. 7d',
    schema: duration(1_000, 3_650 * DAY),
  },
  {
    variable: 'CAIRN_SEND_TIMEOUT',
    default: '10s',
    description: 'Timeout of one HTTP delivery attempt.',
    hint: 'use a duration from 100ms to 5m, e.g. 10s',
    schema: duration(100, 300_000),
  },
  {
    variable: 'CAIRN_EGRESS_ALLOW_LOOPBACK',
    default: 'false',
    description:
      'Allow webhook destinations on loopback/private addresses (dev and tests only; `cairn up` sets it when unset).',
    hint: 'use true or false',
    schema: bool,
  },
  {
    variable: 'CAIRN_EGRESS_DENY',
    default: DEFAULT_EGRESS_DENY,
    description:
      'Networks (CIDR, comma-separated) webhooks may not reach, checked on every resolved address (SSRF guard). Default: loopback, private, link-local, CGNAT and unique-local ranges. Ignored when CAIRN_EGRESS_ALLOW_LOOPBACK=true.',
    hint: 'write networks like 10.0.0.0/8,fd00::/8 (an empty value denies nothing)',
    schema: cidrList,
  },
  {
    variable: 'CAIRN_EGRESS_ALLOW',
    default: '',
    description:
      'Networks (CIDR, comma-separated) webhooks may reach even when CAIRN_EGRESS_DENY covers them, e.g. the subnet of an internal CRM.',
    hint: 'write networks like 10.20.0.0/16',
    schema: cidrList,
  },
];

const HOSTNAME_ORDINAL = /-(\d+)$/;

/** Parses the environment; throws ConfigError (CAIRN_E_CONFIG_INVALID) naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const issues: ConfigIssue[] = [];
  const values: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = env[s.variable] ?? s.default;
    if (raw === undefined) continue;
    const parsed = s.schema.safeParse(raw);
    if (parsed.success) values[s.variable] = parsed.data;
    else {
      const message = s.secret
        ? (parsed.error.issues[0]?.message ?? 'is invalid')
        : describe(raw, parsed.error);
      issues.push({ variable: s.variable, message, hint: s.hint });
    }
  }

  const instances = (values['CAIRN_INSTANCES'] as number | undefined) ?? 1;
  let ordinal = values['CAIRN_ORDINAL'] as number | undefined;
  if (ordinal === undefined && env['CAIRN_ORDINAL'] === undefined) {
    const match = HOSTNAME_ORDINAL.exec(env['HOSTNAME'] ?? '');
    if (match && instances > 1) ordinal = Number(match[1]);
    else if (instances > 1) {
      issues.push({
        variable: 'CAIRN_ORDINAL',
        message: `is unset and HOSTNAME ${JSON.stringify(env['HOSTNAME'] ?? '')} has no -<ordinal> suffix while CAIRN_INSTANCES=${instances}`,
        hint: 'set CAIRN_ORDINAL, or run in a StatefulSet (HOSTNAME like cairn-matcher-2)',
      });
    } else ordinal = 0;
  }
  if (ordinal !== undefined && ordinal >= instances) {
    issues.push({
      variable: 'CAIRN_ORDINAL',
      message: `${ordinal} is not below CAIRN_INSTANCES=${instances}`,
      hint: 'use an ordinal from 0 to CAIRN_INSTANCES-1',
    });
  }
  // The shard is checked here when set; derived from HOSTNAME it is checked by ingest at start
  // (the other services share this environment, and their own HOSTNAME says nothing of it).
  const ingestShards = (values['CAIRN_INGEST_SHARDS'] as number | undefined) ?? 1;
  let ingestShard = values['CAIRN_INGEST_SHARD'] as number | undefined;
  if (ingestShard !== undefined && ingestShard >= ingestShards) {
    issues.push({
      variable: 'CAIRN_INGEST_SHARD',
      message: `${ingestShard} is not below CAIRN_INGEST_SHARDS=${ingestShards}`,
      hint: 'use a shard from 0 to CAIRN_INGEST_SHARDS-1',
    });
  }
  if (ingestShard === undefined && env['CAIRN_INGEST_SHARD'] === undefined) {
    const match = HOSTNAME_ORDINAL.exec(env['HOSTNAME'] ?? '');
    if (ingestShards === 1) ingestShard = 0;
    else if (match && Number(match[1]) < ingestShards) ingestShard = Number(match[1]);
  }
  const partitionCount = values['CAIRN_PARTITIONS'] as number | undefined;
  if (partitionCount !== undefined && ingestShards > partitionCount) {
    issues.push({
      variable: 'CAIRN_INGEST_SHARDS',
      message: `${ingestShards} is above CAIRN_PARTITIONS=${partitionCount}: a shard would own no partition`,
      hint: 'use at most as many ingest shards as partitions',
    });
  }
  const headersTimeout = values['CAIRN_HTTP_HEADERS_TIMEOUT'] as number | undefined;
  const requestTimeout = values['CAIRN_HTTP_REQUEST_TIMEOUT'] as number | undefined;
  if (headersTimeout !== undefined && requestTimeout !== undefined && headersTimeout > requestTimeout) {
    issues.push({
      variable: 'CAIRN_HTTP_HEADERS_TIMEOUT',
      message: `${env['CAIRN_HTTP_HEADERS_TIMEOUT'] ?? '10s'} is above CAIRN_HTTP_REQUEST_TIMEOUT (${env['CAIRN_HTTP_REQUEST_TIMEOUT'] ?? '30s'})`,
      hint: 'the headers are part of the request: use a headers timeout up to the request timeout',
    });
  }
  const adminPort = values['CAIRN_ADMIN_PORT'] as number | undefined;
  if (adminPort !== undefined && adminPort !== 0 && adminPort === values['CAIRN_HTTP_PORT']) {
    issues.push({
      variable: 'CAIRN_ADMIN_PORT',
      message: `${adminPort} is also CAIRN_HTTP_PORT: the admin API never shares the ingest port`,
      hint: 'use another port (default 8090)',
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  // Every value below was validated by its setting's schema above.
  const v = (name: string): never => values[name] as never;
  const config: Config = {
    natsUrl: v('NATS_URL'),
    partitions: v('CAIRN_PARTITIONS'),
    httpPort: v('CAIRN_HTTP_PORT'),
    metricsPort: v('CAIRN_METRICS_PORT'),
    metricsIntervalMs: v('CAIRN_METRICS_INTERVAL'),
    writeKeys: v('CAIRN_WRITE_KEYS'),
    adminPort: v('CAIRN_ADMIN_PORT'),
    adminHost: v('CAIRN_ADMIN_HOST'),
    adminTokens: v('CAIRN_ADMIN_TOKENS'),
    adminCorsOrigins: v('CAIRN_ADMIN_CORS_ORIGINS'),
    httpHeadersTimeoutMs: v('CAIRN_HTTP_HEADERS_TIMEOUT'),
    httpRequestTimeoutMs: v('CAIRN_HTTP_REQUEST_TIMEOUT'),
    httpMaxConnections: v('CAIRN_HTTP_MAX_CONNECTIONS'),
    httpMaxConnectionsPerIp: v('CAIRN_HTTP_MAX_CONNECTIONS_PER_IP'),
    ingestDedupeWindowMs: v('CAIRN_INGEST_DEDUPE_WINDOW'),
    logLevel: v('CAIRN_LOG_LEVEL'),
    replicas: v('CAIRN_REPLICAS'),
    ordinal: ordinal ?? 0,
    instances,
    leaseTtlMs: v('CAIRN_LEASE_TTL'),
    ingestShards,
    timerBucketMs: v('CAIRN_TIMER_BUCKET'),
    shutdownGraceMs: v('CAIRN_SHUTDOWN_GRACE'),
    maxDeliver: v('CAIRN_MAX_DELIVER'),
    ackWaitMs: v('CAIRN_ACK_WAIT'),
    maxClockSkewMs: v('CAIRN_MAX_CLOCK_SKEW'),
    eventsMaxAgeMs: v('CAIRN_EVENTS_MAX_AGE'),
    dedupeWindowMs: v('CAIRN_DEDUPE_WINDOW'),
    idempotencyWindowMs: v('CAIRN_IDEMPOTENCY_WINDOW'),
    instanceRetentionMs: v('CAIRN_INSTANCE_RETENTION'),
    sendTimeoutMs: v('CAIRN_SEND_TIMEOUT'),
    egressAllowLoopback: v('CAIRN_EGRESS_ALLOW_LOOPBACK'),
    egressDeny: v('CAIRN_EGRESS_DENY'),
    egressAllow: v('CAIRN_EGRESS_ALLOW'),
  };
  if (values['NATS_CREDS'] !== undefined) config.natsCreds = v('NATS_CREDS');
  if (values['NATS_NKEY'] !== undefined) config.natsNkey = v('NATS_NKEY');
  if (ingestShard !== undefined) config.ingestShard = ingestShard;
  if (values['CAIRN_AUDIENCES_FILE'] !== undefined) config.audiencesFile = v('CAIRN_AUDIENCES_FILE');
  return config;
}

function describe(raw: string, error: z.ZodError): string {
  const first = error.issues[0]?.message ?? 'is invalid';
  const reason =
    first.startsWith(JSON.stringify(raw)) || first.startsWith(raw)
      ? first
      : `${JSON.stringify(raw)} ${first}`;
  return reason;
}

/** Partitions this replica owns: all when alone, else `{p : p mod N == ordinal}`. */
export function ownedPartitions(config: Pick<Config, 'partitions' | 'ordinal' | 'instances'>): number[] {
  const owned: number[] = [];
  for (let p = 0; p < config.partitions; p++) if (p % config.instances === config.ordinal) owned.push(p);
  return owned;
}

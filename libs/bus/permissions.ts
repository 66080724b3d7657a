// Who may publish and subscribe to what on Cairn's NATS (DESIGN.md §5.9): one allow-list per
// user, rendered into the nats-server configuration that `cairn auth init` writes and that
// deploy/nats/auth.conf ships. Everything not listed is denied. A producer may publish events
// and read its own publish acks, nothing else; each service may touch only the streams, buckets
// and subjects its stage uses; the admin user is the operator's CLI.
//
// JetStream is reached through subjects, so the lists name the API calls too: `$JS.API.*`
// (stream and consumer management, direct gets), `$KV.<bucket>.<key>` (KV writes),
// `$JS.ACK.<stream>.>` (acks), `$JS.FC.<stream>.>` (flow control of the ordered consumers behind
// KV watches and key listings). Replies go to `_INBOX_cairn_<role>.>` (connection.ts
// `inboxPrefixOf`): no other user can subscribe there and read them.
import { inboxPrefixOf } from './connection.js';
import { BUCKETS, STREAMS } from './topology.js';

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

export const SERVICE_ROLES = ['ingest', 'matcher', 'timer', 'sender'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];
/** Every user of the shipped configuration: `up` runs the four services in one process. */
export const ROLES = [...SERVICE_ROLES, 'up', 'admin', 'producer'] as const;
export type Role = (typeof ROLES)[number];

/** Subjects nats destinations may publish on under the shipped configuration. */
export const NATS_DESTINATION_SUBJECTS = 'out.>';

const KV_STREAMS = Object.values(BUCKETS).map((b) => `KV_${b}`);
const ALL_STREAMS = [...Object.values(STREAMS), ...KV_STREAMS];

/** Provisioning at start (libs/bus provision.ts): read, create and update Cairn's own streams. */
const provisioning = (): string[] => [
  '$JS.API.INFO',
  ...ALL_STREAMS.flatMap((s) => [
    `$JS.API.STREAM.INFO.${s}`,
    `$JS.API.STREAM.CREATE.${s}`,
    `$JS.API.STREAM.UPDATE.${s}`,
  ]),
];

/** A durable pull consumer of the runner on `stream`: create or update it, read it, pull, ack. */
const consuming = (stream: string): string[] => [
  `$JS.API.CONSUMER.CREATE.${stream}`,
  `$JS.API.CONSUMER.CREATE.${stream}.>`,
  `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
  `$JS.API.CONSUMER.UPDATE.${stream}.>`,
  `$JS.API.CONSUMER.INFO.${stream}.*`,
  `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
  `$JS.ACK.${stream}.>`,
  // Is a message whose redelivery is overdue still stored (a purged one releases its key)?
  `$JS.API.STREAM.MSG.GET.${stream}`,
];

/** An ordered (ephemeral) consumer over `stream`: a KV watch or key listing, a stream read. */
const ordered = (stream: string): string[] => [
  `$JS.API.CONSUMER.CREATE.${stream}`,
  `$JS.API.CONSUMER.CREATE.${stream}.>`,
  `$JS.API.CONSUMER.DELETE.${stream}.>`,
  `$JS.API.CONSUMER.INFO.${stream}.>`,
  `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
  `$JS.FC.${stream}.>`,
];

/** Reads of a bucket's keys: direct get (the lean path and the client's KV) or message get. */
const kvRead = (bucket: string): string[] => [
  `$JS.API.DIRECT.GET.KV_${bucket}`,
  `$JS.API.DIRECT.GET.KV_${bucket}.>`,
  `$JS.API.STREAM.MSG.GET.KV_${bucket}`,
];
/** Reads, writes and deletes (a write is a publish on `$KV.<bucket>.<key>`). */
const kvWrite = (bucket: string): string[] => [...kvRead(bucket), `$KV.${bucket}.>`];
/** A watched bucket (the matcher's journeys, the sender's destinations). */
const kvWatch = (bucket: string): string[] => [...kvRead(bucket), ...ordered(`KV_${bucket}`)];

const inbox = (role: string): string[] => [`${inboxPrefixOf(role)}.>`];

/** Partition leases (lease.ts): read, CAS-write and watch the stage's keys of `cairn_leases`. */
const leasing = (): string[] => [...kvWatch(BUCKETS.leases), `$KV.${BUCKETS.leases}.>`];

function servicePermissions(role: ServiceRole): Permissions {
  const common = provisioning();
  switch (role) {
    case 'ingest':
      return {
        publish: [
          ...common,
          ...consuming(STREAMS.EVENTS),
          // The HTTP Tracking API stores events in EVENTS.
          'events.>',
          'match.*.event',
          'dlq.ingest',
          ...kvWrite(BUCKETS.profiles),
          ...kvWrite(BUCKETS.ingestDedupe),
          ...kvWrite(BUCKETS.state),
        ],
        subscribe: inbox(role),
      };
    case 'matcher':
      return {
        publish: [
          ...common,
          ...consuming(STREAMS.MATCH),
          // The shadow versions' inputs: forwarded by the live handlers, consumed apart.
          ...consuming(STREAMS.SHADOW),
          'shadow.*.*',
          'deliver.*',
          'timers.*.*',
          'journal.*.*',
          'dlq.matcher',
          'dlq.shadow',
          ...kvWrite(BUCKETS.instances),
          // An ended instance's retention removes exactly its revision.
          `$JS.API.STREAM.MSG.DELETE.KV_${BUCKETS.instances}`,
          ...kvWrite(BUCKETS.userInstances),
          ...kvRead(BUCKETS.profiles),
          ...kvWatch(BUCKETS.journeys),
          ...leasing(),
          // The journal projection (libs/insight): JOURNAL read from a checkpoint, counts in KV.
          ...ordered(STREAMS.JOURNAL),
          ...kvWrite(BUCKETS.stats),
        ],
        subscribe: inbox(role),
      };
    case 'timer':
      return {
        publish: [
          ...common,
          ...ordered(STREAMS.TIMERS),
          // A finished bucket's timers are deleted by sequence (never a filtered purge).
          `$JS.API.STREAM.MSG.DELETE.${STREAMS.TIMERS}`,
          'match.*.timer',
          'dlq.timer',
          // Parked delivery retries fire back onto deliver.<p>.
          'deliver.*',
          // Its progress per partition, and a watch on ingest's watermark.
          ...kvWatch(BUCKETS.state),
          `$KV.${BUCKETS.state}.>`,
          ...leasing(),
        ],
        subscribe: inbox(role),
      };
    case 'sender':
      return {
        publish: [
          ...common,
          ...consuming(STREAMS.DELIVER),
          // Retries: re-published jobs and parked ones.
          'deliver.*',
          'timers.*.*',
          'dlq.deliver',
          ...kvWrite(BUCKETS.sent),
          // A 410 Gone disables the destination (CAS on its value).
          ...kvWatch(BUCKETS.destinations),
          `$KV.${BUCKETS.destinations}.>`,
          // nats destinations: which stream holds the subject, then the publish.
          '$JS.API.STREAM.NAMES',
          NATS_DESTINATION_SUBJECTS,
          ...leasing(),
          // Its circuit breakers' states for the admin API (the `circuit.*` keys only).
          `$KV.${BUCKETS.state}.circuit.>`,
        ],
        subscribe: inbox(role),
      };
  }
}

const union = (lists: string[][]): string[] => [...new Set(lists.flat())];

/** The allow-lists of a user of the shipped configuration. */
export function permissionsOf(role: Role): Permissions {
  switch (role) {
    case 'producer':
      // Events in, publish acks back (the client's default reply prefix), nothing else.
      return { publish: ['events.>'], subscribe: ['_INBOX.>'] };
    case 'admin':
      // The operator's CLI and the admin HTTP API: journeys, destinations, DLQ re-drives,
      // archive sweeps, inspection, health; the API records its writes on `audit.admin`.
      return {
        publish: [
          '$JS.API.>',
          '$JS.ACK.>',
          '$JS.FC.>',
          '$KV.>',
          'events.>',
          'match.*.*',
          'shadow.*.*',
          'deliver.*',
          'timers.*.*',
          NATS_DESTINATION_SUBJECTS,
          'audit.admin',
        ],
        subscribe: inbox('admin'),
      };
    case 'up': {
      // The four services, each stage on its own connection, and the lifecycle's connection;
      // the admin API runs on that one, with the admin user's rights (it is a development mode).
      const all = [...SERVICE_ROLES.map(servicePermissions), permissionsOf('admin')];
      return {
        publish: union(all.map((p) => p.publish)),
        subscribe: union([...all.map((p) => p.subscribe), inbox('up')]),
      };
    }
    default:
      return servicePermissions(role);
  }
}

/** The variable of a role's public nkey in keys.conf. */
export const nkeyVariable = (role: Role): string => `CAIRN_NKEY_${role.toUpperCase()}`;

const quote = (s: string): string => JSON.stringify(s);

/** The nats-server `authorization` block of every role; public keys come from `keys.conf`. */
export function renderAuthConf(): string {
  const lines = [
    '# Cairn: NATS authorization, one nkey user per service, the producers and the admin CLI.',
    '# Generated from libs/bus/permissions.ts (`cairn auth init` writes this file, keys.conf',
    '# beside it and one seed per user). Everything not listed is denied. docs/security.md.',
    '#',
    '# nats-server -js -c auth.conf',
    '',
    'include ./keys.conf',
    '',
  ];
  for (const role of ROLES) {
    const p = permissionsOf(role);
    lines.push(`CAIRN_PERMISSIONS_${role.toUpperCase()} = {`);
    lines.push('  publish = {');
    lines.push('    allow = [');
    for (const s of p.publish) lines.push(`      ${quote(s)}`);
    lines.push('    ]');
    lines.push('  }');
    lines.push('  subscribe = {');
    lines.push('    allow = [');
    for (const s of p.subscribe) lines.push(`      ${quote(s)}`);
    lines.push('    ]');
    lines.push('  }');
    lines.push('}');
    lines.push('');
  }
  lines.push('authorization {');
  lines.push('  users = [');
  for (const role of ROLES) {
    lines.push(`    { nkey: $${nkeyVariable(role)}, permissions: $CAIRN_PERMISSIONS_${role.toUpperCase()} }`);
  }
  lines.push('  ]');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** keys.conf: the public key of each role (no secret: the seeds stay with the processes). */
export function renderKeysConf(publicKeys: Record<Role, string>): string {
  const lines = ['# Cairn: the public nkey of each NATS user (`cairn auth init`). No secrets here.'];
  for (const role of ROLES) lines.push(`${nkeyVariable(role)}: ${quote(publicKeys[role])}`);
  return `${lines.join('\n')}\n`;
}

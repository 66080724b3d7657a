// The OpenAPI 3.1 document of the admin HTTP API, served at GET /api/v1/openapi.json. Written
// by hand, next to the routes; test/integration/admin/openapi.test.ts checks that every route is
// documented and every documented route exists.

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 && { required }),
});
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const num: Schema = { type: 'number' };
const arr = (items: Schema): Schema => ({ type: 'array', items });

const pathParam = (name: string, description: string, schema: Schema = str) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
const queryParam = (name: string, description: string, schema: Schema = str) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      {
        description: ERROR_TEXT[s] ?? 'error',
        content: { 'application/json': { schema: ref('Error') } },
      },
    ]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: 'bad input: the code and hint say what to fix',
  401: 'no valid bearer token',
  403: 'a write with a read-only token',
  404: 'no such journey, version, destination or record',
  409: 'the state does not allow it (no active version, a disabled destination)',
};

const ok = (schema: Schema, description = 'ok', status = '200') => ({
  [status]: { description, content: { 'application/json': { schema } } },
});
const body = (schema: Schema) => ({ required: true, content: { 'application/json': { schema } } });

const read = { security: [{ bearer: [] }], 'x-cairn-role': 'read' };
const write = { security: [{ bearer: [] }], 'x-cairn-role': 'write' };

const id = pathParam('id', 'the journey id');

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Cairn admin API',
    version: '1',
    description:
      'Journeys, stats, users, destinations, dead letters and health of a Cairn installation. Bearer tokens from CAIRN_ADMIN_TOKENS; read tokens may call every GET and the draft validation, write tokens every route. Every write is recorded in stream AUDIT. docs/console.md.',
  },
  servers: [{ url: '/api/v1' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: obj(
        {
          error: obj({ code: str, message: str, hint: str, problems: arr({ type: 'object' }) }, [
            'code',
            'message',
            'hint',
          ]),
        },
        ['error'],
      ),
      Problem: obj(
        {
          severity: { enum: ['error', 'warning'] },
          code: str,
          path: str,
          line: int,
          column: int,
          message: str,
          hint: str,
        },
        ['severity', 'code', 'path', 'message'],
      ),
      JourneySummary: obj(
        {
          id: str,
          name: str,
          status: { enum: ['active', 'archived'] },
          active: { type: ['integer', 'null'] },
          latest: int,
          versions: { type: 'object', additionalProperties: { enum: ['active', 'draining', 'archived'] } },
          enteredToday: {
            type: 'integer',
            description: 'active version: instances entered in the last 24 hours',
          },
          current: { type: 'integer', description: 'active version: instances waiting at a step now' },
          deliveries: { type: 'integer', description: 'active version: sends sent in the last 24 hours' },
          failures: {
            type: 'integer',
            description:
              "the journey's dead-lettered deliveries among the newest 1,000 records of dlq.deliver",
          },
        },
        ['id', 'status', 'active', 'latest', 'versions'],
      ),
      Destination: {
        type: 'object',
        description:
          'As stored, with `secret`/`secrets` masked to their last 4 characters, header values and a URL password as `****`; `circuit` is the worst circuit breaker state across the running senders (`closed` when senders run and none reports another, `unknown` when no sender runs).',
        properties: {
          id: str,
          type: { enum: ['webhook', 'nats'] },
          url: str,
          subject: str,
          circuit: { enum: ['closed', 'open', 'half_open', 'unknown'] },
        },
        required: ['id', 'type', 'circuit'],
      },
      DlqSummary: obj(
        {
          seq: int,
          dlqSubject: str,
          stage: str,
          reason: str,
          at: str,
          subject: str,
          destination: str,
          deliveryId: str,
          journeyId: str,
          version: int,
          stepId: str,
          userKey: str,
          attempts: int,
        },
        ['seq', 'dlqSubject', 'stage', 'reason', 'at', 'subject', 'attempts'],
      ),
      JourneyStats: {
        type: 'object',
        description: 'libs/insight/types.ts JourneyStats: counts per journey, version and step.',
      },
    },
  },
  paths: {
    '/openapi.json': {
      get: { summary: 'This document (no token needed)', responses: ok({ type: 'object' }) },
    },
    '/whoami': {
      get: {
        ...read,
        summary: "The bearer token's name and role (the console hides write actions from read tokens)",
        responses: {
          ...ok(obj({ name: str, role: { enum: ['read', 'write'] } }, ['name', 'role'])),
          ...errors(401),
        },
      },
    },
    '/health': {
      get: {
        ...read,
        summary: 'Each stage: consumer pending, ack pending and lag; timers stored; DLQ depth; watermark age',
        responses: {
          ...ok(
            obj({
              stages: arr(
                obj({
                  stage: str,
                  stream: str,
                  consumer: str,
                  pending: int,
                  ackPending: int,
                  lagSeconds: num,
                }),
              ),
              timers: obj({ stored: int }),
              dlq: { type: 'object', additionalProperties: int },
              watermarkAgeSeconds: { type: ['number', 'null'] },
              nats: obj({ connected: bool, server: str, version: str }),
            }),
          ),
          ...errors(401),
        },
      },
    },
    '/journeys': {
      get: {
        ...read,
        summary: 'Every journey: status, active and latest version, each version status',
        responses: {
          ...ok(obj({ journeys: arr(ref('JourneySummary')), unreadable: arr(str) })),
          ...errors(401),
        },
      },
      post: {
        ...write,
        summary: 'Validate a draft and publish it as the next version (none when unchanged)',
        requestBody: body(
          obj(
            {
              source: { ...str, description: 'the journey, YAML or JSON' },
              previous: {
                enum: ['drain', 'archive'],
                description: 'what becomes of the active version (drain)',
              },
              allowMissingDestinations: bool,
              shadow: {
                ...bool,
                description:
                  'store it as the shadow version: decided beside the active version, sending nothing (needs an active version; not with previous)',
              },
            },
            ['source'],
          ),
        ),
        responses: {
          ...ok(
            obj({
              id: str,
              version: int,
              unchanged: bool,
              previous: obj({ version: int, status: str }),
              ended: int,
              shadow: bool,
              replaced: { ...int, description: 'the shadow this one replaced (archived)' },
              problems: arr(ref('Problem')),
            }),
            'published',
            '201',
          ),
          ...ok(
            obj({ id: str, version: int, unchanged: bool }),
            'unchanged: the active version has this content',
          ),
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    '/journeys/validate': {
      post: {
        ...read,
        summary: 'Validate a draft as `cairn journey validate` does: every problem with its line and column',
        requestBody: body(obj({ source: str }, ['source'])),
        responses: {
          ...ok(obj({ ok: bool, id: str, problems: arr(ref('Problem')) }, ['ok', 'problems'])),
          ...errors(400, 401),
        },
      },
    },
    '/preview': {
      post: {
        ...read,
        summary:
          "A send step's payload for a sample event, as `cairn journey preview` builds it (the draft is not stored). Source at most 256 KiB",
        requestBody: body(
          obj(
            {
              source: str,
              stepId: str,
              event: { type: 'object', description: 'a Segment-style event with userId or anonymousId' },
              profile: obj({ traits: { type: 'object' }, audiences: arr(str) }),
            },
            ['source', 'stepId', 'event'],
          ),
        ),
        responses: {
          ...ok(
            obj(
              { journeyId: str, stepId: str, payload: { type: 'object' }, bytes: int, maxPayloadBytes: int },
              ['journeyId', 'stepId', 'payload', 'bytes', 'maxPayloadBytes'],
            ),
          ),
          ...errors(400, 401),
        },
      },
    },
    '/simulate': {
      post: {
        ...read,
        summary:
          'The draft run over ndjson events on a virtual clock, as `cairn simulate` does (nothing is stored). Source at most 256 KiB, events at most 1 MiB and 5,000 events',
        requestBody: body(
          obj(
            {
              source: str,
              events: { type: 'string', description: 'ndjson: one event a line, each with "at"' },
              profiles: {
                type: 'object',
                additionalProperties: obj({ traits: { type: 'object' }, audiences: arr(str) }),
              },
            },
            ['source', 'events'],
          ),
        ),
        responses: {
          ...ok(
            obj(
              {
                deliveries: arr(
                  obj({
                    at: int,
                    journeyId: str,
                    stepId: str,
                    destination: str,
                    deliveryId: str,
                    payload: { type: 'object' },
                  }),
                ),
                journal: arr({ type: 'object', description: 'journal records (libs/journey JournalRecord)' }),
                refusals: arr({ type: 'object', description: 'refusals not in the journal' }),
              },
              ['deliveries', 'journal', 'refusals'],
            ),
          ),
          ...errors(400, 401),
        },
      },
    },
    '/journeys/{id}': {
      get: {
        ...read,
        summary: "A journey's head and its versions",
        parameters: [id],
        responses: {
          ...ok(
            obj({
              id: str,
              status: str,
              active: { type: ['integer', 'null'] },
              latest: int,
              versions: arr(obj({ version: int, status: str, publishedAt: str, hash: str })),
            }),
          ),
          ...errors(401, 404),
        },
      },
    },
    '/journeys/{id}/versions/{version}': {
      get: {
        ...read,
        summary: 'One version: its document, its source as written and its graph',
        parameters: [id, pathParam('version', 'the version number', int)],
        responses: {
          ...ok(
            obj({
              id: str,
              version: int,
              status: str,
              publishedAt: str,
              hash: str,
              document: { type: 'object' },
              source: { type: ['string', 'null'] },
              graph: obj(
                {
                  nodes: arr(
                    obj({ id: str, kind: str, label: str, detail: str }, ['id', 'kind', 'label', 'detail']),
                  ),
                  edges: arr(obj({ from: str, to: str, label: str, branch: str }, ['from', 'to', 'label'])),
                },
                ['nodes', 'edges'],
              ),
            }),
          ),
          ...errors(400, 401, 404),
        },
      },
    },
    '/journeys/{id}/promote': {
      post: {
        ...write,
        summary: 'Make the shadow version the active one; the version active until now drains',
        parameters: [id],
        responses: {
          ...ok(obj({ id: str, version: int, previous: int }, ['id', 'version'])),
          ...errors(401, 403, 404, 409),
        },
      },
    },
    '/journeys/{id}/archive': {
      post: {
        ...write,
        summary: 'Stop new entries; the running instances of the active version end',
        parameters: [id],
        responses: { ...ok(obj({ id: str, version: int, ended: int })), ...errors(401, 403, 404, 409) },
      },
    },
    '/journeys/{id}/stats': {
      get: {
        ...read,
        summary: 'Counts per version and step (JourneyStats)',
        parameters: [
          id,
          queryParam('version', 'a version (default: the active one)', int),
          queryParam('since', 'a window back from now, e.g. 24h (default: all time)'),
          queryParam('shadow', 'the shadow version', bool),
        ],
        responses: { ...ok(ref('JourneyStats')), ...errors(400, 401, 404) },
      },
    },
    '/users/{userId}': {
      get: {
        ...read,
        summary:
          "A user's instances, timers pending and journal timeline (refusals with their reason, deliveries with their outcome)",
        parameters: [
          pathParam('userId', 'the userId, or the anonymousId of an anonymous user'),
          queryParam('since', 'how far back the journal is read (default 24h)'),
        ],
        responses: {
          ...ok(
            obj({
              userKey: str,
              partition: int,
              instances: arr({ type: 'object' }),
              timers: arr(obj({ journeyId: str, version: int, instanceKey: str, stepId: str, fireAt: str })),
              timeline: arr({ type: 'object' }),
              undecodable: int,
            }),
          ),
          ...errors(400, 401),
        },
      },
    },
    '/destinations': {
      get: {
        ...read,
        summary: 'Every destination, secrets masked',
        responses: { ...ok(obj({ destinations: arr(ref('Destination')) })), ...errors(401) },
      },
    },
    '/destinations/{id}': {
      get: {
        ...read,
        summary: 'One destination, secrets masked',
        parameters: [pathParam('id', 'the destination id')],
        responses: { ...ok(ref('Destination')), ...errors(401, 404) },
      },
    },
    '/destinations/{id}/test': {
      post: {
        ...write,
        summary: 'Send a signed sample delivery now; the answer and what the sender would do with it',
        parameters: [pathParam('id', 'the destination id')],
        responses: {
          ...ok(
            obj({
              ok: bool,
              type: str,
              url: str,
              subject: str,
              status: int,
              ms: int,
              deliveryId: str,
              signed: bool,
              detail: str,
              verdict: str,
              hint: str,
            }),
          ),
          ...errors(401, 403, 404),
        },
      },
    },
    '/dlq': {
      get: {
        ...read,
        summary: 'Dead letters, newest last',
        parameters: [
          queryParam('stage', 'ingest, matcher, shadow, deliver or timer'),
          queryParam('destination', 'only deliveries to this destination'),
          queryParam('journey', 'only deliveries of this journey'),
          queryParam('limit', 'at most this many (default 100, at most 1000)', int),
        ],
        responses: { ...ok(obj({ records: arr(ref('DlqSummary')) })), ...errors(400, 401) },
      },
    },
    '/dlq/{seq}': {
      get: {
        ...read,
        summary: 'One record: its attempts and the failed message (a delivery job, or the message decoded)',
        parameters: [pathParam('seq', 'the record sequence', int)],
        responses: {
          ...ok({
            allOf: [
              ref('DlqSummary'),
              obj({ attempts: arr({ type: 'object' }), job: { type: 'object' }, message: {} }),
            ],
          }),
          ...errors(400, 401, 404),
        },
      },
      delete: {
        ...write,
        summary: 'Drop the record',
        parameters: [pathParam('seq', 'the record sequence', int)],
        responses: { ...ok(obj({ dropped: bool, seq: int })), ...errors(400, 401, 403, 404) },
      },
    },
    '/dlq/{seq}/retry': {
      post: {
        ...write,
        summary:
          'Re-drive the record to the subject it failed on (a delivery with a fresh retry budget), then remove it',
        parameters: [pathParam('seq', 'the record sequence', int)],
        responses: {
          ...ok(obj({ retried: bool, seq: int, subject: str })),
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
  },
} as const;

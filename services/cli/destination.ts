// `cairn destination put|list|show|test`: secrets never leave in output.
import { randomUUID } from 'node:crypto';

import { Agent } from 'undici';
import { stringify as toYaml } from 'yaml';

import {
  DestinationError,
  getDestination,
  listDestinations,
  parseDestinationFile,
  putDestination,
  signingSecrets,
  type Bus,
  type DeliverJob,
  type Destination,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import { formatDuration } from '../../libs/journey/index.js';
import { EgressPolicy, NatsPublisher, sendWebhook, type AttemptResult } from '../sender/index.js';
import { COMMON_OPTIONS, parse, positional } from './args.js';
import { withBus } from './connect.js';
import { readDocument } from './files.js';
import { CliError, CodedError, type CliIo, type ExitCode } from './io.js';

export const DESTINATION_HELP = `Usage: cairn destination <command> [options]

Commands:
  put <file>...   validate and store destinations (YAML or JSON; last write wins)
  list            every destination (secrets masked)
  show <id>       one destination as YAML (secrets masked)
  test <id>       send a signed sample delivery now and print the answer

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help         this help`;

/** Each command's own help (`cairn <group> <command> --help`), with an example. */
export const DESTINATION_COMMAND_HELP: Record<string, string> = {
  put: `Usage: cairn destination put <file>...

Validates and stores destinations (YAML or JSON, one per file; the last write wins).
docs/destinations.md lists the fields.

Example:
  cairn destination put examples/destinations/demo-webhook.yaml

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  list: `Usage: cairn destination list

Every destination: id, type, URL or subject, whether it is signed or disabled.

Example:
  cairn destination list

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  show: `Usage: cairn destination show <id>

Prints one destination as YAML, the way \`cairn destination put\` accepts it (durations such
as timeout: 5s), with secrets and header values masked: write the real ones before putting it
again.

Example:
  cairn destination show demo-webhook

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  test: `Usage: cairn destination test <id>

Sends a signed sample delivery now and prints the answer, or what the sender would do with
it. It follows the sender's egress settings: a sink on localhost needs
CAIRN_EGRESS_ALLOW_LOOPBACK=true (which \`cairn up\` sets for itself).

Example:
  CAIRN_EGRESS_ALLOW_LOOPBACK=true cairn destination test demo-webhook

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
};

/** A copy safe to print: the secret and header values are masked. */
export function maskDestination(dest: Destination): Record<string, unknown> {
  const out: Record<string, unknown> = { ...dest };
  if (dest.type === 'webhook') {
    if (dest.secret !== undefined) out['secret'] = maskSecret(dest.secret);
    if (dest.secrets !== undefined) out['secrets'] = dest.secrets.map(maskSecret);
    if (dest.headers !== undefined) {
      out['headers'] = Object.fromEntries(Object.keys(dest.headers).map((k) => [k, '****']));
    }
  }
  return out;
}

/**
 * The destination as a file `cairn destination put` accepts (durations written `5s`, no stored
 * bookkeeping), with secrets and header values masked.
 */
export function destinationFile(dest: Destination): Record<string, unknown> {
  const masked = maskDestination(dest);
  const out: Record<string, unknown> = { id: dest.id, type: dest.type };
  if (dest.type === 'webhook') {
    out['url'] = dest.url;
    for (const k of ['secret', 'secrets', 'headers'] as const)
      if (masked[k] !== undefined) out[k] = masked[k];
    if (dest.timeoutMs !== undefined) out['timeout'] = formatDuration(dest.timeoutMs);
  } else out['subject'] = dest.subject;
  if (dest.retryBudgetMs !== undefined) out['retryBudget'] = formatDuration(dest.retryBudgetMs);
  if (dest.concurrency !== undefined) out['concurrency'] = dest.concurrency;
  if (dest.rateLimit !== undefined) out['rateLimit'] = dest.rateLimit;
  if (dest.circuit !== undefined) {
    const { cooldownMs, ...rest } = dest.circuit;
    out['circuit'] = { ...rest, ...(cooldownMs !== undefined && { cooldown: formatDuration(cooldownMs) }) };
  }
  return out;
}

function maskSecret(secret: string): string {
  return `whsec_****${secret.slice(-4)}`;
}

function summary(dest: Destination): string {
  const disabled = dest.disabled ? `  (disabled: ${dest.disabled.reason})` : '';
  if (dest.type === 'nats') return `${dest.id}  nats  ${dest.subject}${disabled}`;
  const signed = signingSecrets(dest).length > 0 ? '  (signed)' : '';
  return `${dest.id}  webhook  ${dest.url}${signed}${disabled}`;
}

/** A sample job: a Segment track event, marked as a test, with a fresh delivery id. */
export function sampleJob(dest: Destination, now: number): DeliverJob {
  const deliveryId = `test-${randomUUID()}`;
  const stepKey = { journeyId: 'cairn-destination-test', version: 0, stepId: 'test' };
  return {
    v: 1,
    deliveryId,
    destination: dest.id,
    userKey: 'cairn-test-user',
    stepKey,
    payload: {
      type: 'track',
      event: 'Cairn Destination Test',
      userId: 'cairn-test-user',
      messageId: deliveryId,
      timestamp: new Date(now).toISOString(),
      properties: {
        test: true,
        journey_metadata: { journey_id: stepKey.journeyId, step_id: stepKey.stepId, delivery_id: deliveryId },
      },
    },
    eventReceivedAt: now,
    eventTimestamp: now,
  };
}

export const DESTINATION_NOT_FOUND = 'CAIRN_E_DESTINATION_NOT_FOUND';

export const destinationNotFound = (id: string): CodedError =>
  new CodedError(
    DESTINATION_NOT_FOUND,
    `destination ${id} does not exist`,
    'List them with `cairn destination list`',
    'not_found',
  );

/** What a test send did: published on a subject, or a webhook's answer. */
export type TestSendResult =
  | { type: 'nats'; deliveryId: string; subject: string; ms: number }
  | { type: 'webhook'; deliveryId: string; url: string; ms: number; secrets: number; result: AttemptResult };

/**
 * Sends a signed sample delivery to the destination now, with the sender's egress settings and
 * timeout (`cairn destination test`, `POST /api/v1/destinations/:id/test`).
 */
export async function testSend(
  bus: Bus,
  config: Config,
  dest: Destination,
  now = Date.now(),
): Promise<TestSendResult> {
  const job = sampleJob(dest, now);
  const started = performance.now();
  if (dest.type === 'nats') {
    await new NatsPublisher(bus).publish(dest, job);
    const ms = Math.round(performance.now() - started);
    return { type: 'nats', deliveryId: job.deliveryId, subject: dest.subject, ms };
  }
  const timeoutMs = dest.timeoutMs ?? config.sendTimeoutMs;
  const egress = EgressPolicy.fromConfig(config);
  const dispatcher = new Agent({
    connect: egress.open ? { timeout: timeoutMs } : { timeout: timeoutMs, lookup: egress.lookup },
  });
  try {
    const result = await sendWebhook(dest, job, { dispatcher, timeoutMs, egress });
    const ms = Math.round(performance.now() - started);
    const secrets = signingSecrets(dest).length;
    return { type: 'webhook', deliveryId: job.deliveryId, url: dest.url, ms, secrets, result };
  } finally {
    await dispatcher.close();
  }
}

/** What the sender would do with a failed test send's answer. */
export function verdictOf(result: Exclude<AttemptResult, { kind: 'ok' }>): string {
  return result.kind === 'retry'
    ? 'would be retried'
    : result.kind === 'gone'
      ? 'would disable the destination'
      : 'would go to the DLQ';
}

/** How to fix a failed test send. */
export function testFixOf(result: Exclude<AttemptResult, { kind: 'ok' }>): string {
  return result.kind === 'failed' && result.reason === 'egress_denied'
    ? 'For a local sink in development run the command with CAIRN_EGRESS_ALLOW_LOOPBACK=true (the sender needs it too; `cairn up` sets it), for an internal network set CAIRN_EGRESS_ALLOW'
    : 'Check the URL, the receiver and its logs, then test again';
}

export async function destinationCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, COMMON_OPTIONS, 'cairn destination');
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out((command !== undefined && DESTINATION_COMMAND_HELP[command]) || DESTINATION_HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  const url = values['nats-url'];
  switch (command) {
    case 'put': {
      positional(rest, 0, 'file', 'cairn destination put <file>...');
      const parsed: Destination[] = [];
      for (const file of rest) {
        try {
          parsed.push(parseDestinationFile(await readDocument(io, file)));
        } catch (err) {
          if (!(err instanceof DestinationError)) throw err;
          for (const issue of err.issues)
            io.out(`${file}: error ${err.code} at ${issue.path}: ${issue.message}`);
          throw new CliError(`${file} is not a valid destination`, 'Fix the fields above (see docs/cli.md)');
        }
      }
      await withBus(io, url, async (bus) => {
        for (const dest of parsed) {
          await putDestination(bus, dest);
          io.out(`put destination ${summary(dest)}`);
        }
      });
      return 0;
    }
    case 'list': {
      const all = await withBus(io, url, (bus) => listDestinations(bus));
      if (all.length === 0) io.out('no destinations yet: add one with `cairn destination put <file>`');
      for (const dest of all) io.out(summary(dest));
      return 0;
    }
    case 'show': {
      const id = positional(rest, 0, 'id', 'cairn destination show <id>');
      const dest = await withBus(io, url, (bus) => getDestination(bus, id));
      if (!dest) throw destinationNotFound(id);
      if (dest.disabled) {
        io.out(
          `# disabled ${new Date(dest.disabled.at).toISOString()}: ${dest.disabled.reason} (putting it again enables it)`,
        );
      }
      const file = destinationFile(dest);
      if (dest.type === 'webhook' && (signingSecrets(dest).length > 0 || dest.headers !== undefined))
        io.out('# secrets and header values are masked: write the real ones before putting this again');
      io.out(toYaml(file).trimEnd());
      return 0;
    }
    case 'test': {
      const id = positional(rest, 0, 'id', 'cairn destination test <id>');
      return withBus(io, url, async (bus, config) => {
        const dest = await getDestination(bus, id);
        if (!dest) throw destinationNotFound(id);
        if (dest.disabled) io.out(`note: ${id} is disabled (${dest.disabled.reason}); testing it anyway`);
        const sent = await testSend(bus, config, dest);
        if (sent.type === 'nats') {
          io.out(`published test delivery ${sent.deliveryId} on ${sent.subject}`);
          return 0;
        }
        const { result, ms } = sent;
        const signed = sent.secrets > 0 ? `signed with ${sent.secrets} secret(s)` : 'unsigned';
        if (result.kind === 'ok') {
          io.out(
            `sent test delivery ${sent.deliveryId} to ${sent.url}: http ${result.status} in ${ms} ms (${signed})`,
          );
          return 0;
        }
        throw new CliError(
          `test delivery to ${sent.url} failed: ${result.detail} in ${ms} ms (${verdictOf(result)})`,
          testFixOf(result),
        );
      });
    }
    default:
      throw new CliError(`unknown command \`destination ${command}\``, 'See `cairn destination --help`');
  }
}

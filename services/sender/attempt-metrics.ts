// Every attempt counted by destination, outcome and status class (`2xx`, `4xx`, `5xx`,
// `network`, `nats`), and the deferrals (circuit open, concurrency, rate limit) by reason.
// Registered on the process registry next to libs/telemetry's metrics; no user ids in labels.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AttemptMetrics {
  attempts: Counter<'destination' | 'outcome' | 'status_class'>;
  deferrals: Counter<'destination' | 'reason'>;
  circuitOpen: Gauge<'destination'>;
  exhausted: Counter<'destination' | 'reason'>;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function attemptMetrics(registry: Registry): AttemptMetrics {
  const registers = [registry];
  return {
    attempts: getOrCreate(
      registry,
      'cairn_delivery_attempts_total',
      () =>
        new Counter({
          name: 'cairn_delivery_attempts_total',
          help: 'Delivery attempts, by destination, outcome (ok, retry, failed) and status class',
          labelNames: ['destination', 'outcome', 'status_class'] as const,
          registers,
        }),
    ),
    deferrals: getOrCreate(
      registry,
      'cairn_delivery_deferrals_total',
      () =>
        new Counter({
          name: 'cairn_delivery_deferrals_total',
          help: 'Jobs parked without an attempt: circuit_open, concurrency, rate_limit, not_due',
          labelNames: ['destination', 'reason'] as const,
          registers,
        }),
    ),
    circuitOpen: getOrCreate(
      registry,
      'cairn_destination_circuit_open',
      () =>
        new Gauge({
          name: 'cairn_destination_circuit_open',
          help: '1 while the destination circuit is open (or half-open), else 0',
          labelNames: ['destination'] as const,
          registers,
        }),
    ),
    exhausted: getOrCreate(
      registry,
      'cairn_delivery_dead_letters_total',
      () =>
        new Counter({
          name: 'cairn_delivery_dead_letters_total',
          help: 'Deliveries moved to dlq.deliver by the sender, by reason',
          labelNames: ['destination', 'reason'] as const,
          registers,
        }),
    ),
  };
}

export function statusClass(status: number | undefined, natsDestination: boolean): string {
  if (natsDestination) return 'nats';
  if (status === undefined) return 'network';
  return `${Math.floor(status / 100)}xx`;
}

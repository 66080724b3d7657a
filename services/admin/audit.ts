// The audit trail of the admin HTTP API: one record per write request (publish, archive, test
// send, DLQ retry and drop) on `audit.admin` in stream AUDIT, kept 90 days: who (the token's
// name), what (method, route, parameters, the target and the outcome) and when.
import { subjects, type Bus } from '../../libs/bus/index.js';

export const AUDIT_SUBJECT = subjects.audit('admin');

export interface AuditRecord {
  v: 1;
  /** ISO 8601, when the answer was given. */
  at: string;
  /** The token's name (CAIRN_ADMIN_TOKENS `name:role:token`). */
  who: string;
  role: 'read' | 'write';
  method: string;
  /** The route pattern (`/api/v1/dlq/:seq/retry`) and its parameters. */
  route: string;
  params: Record<string, string>;
  /** What the write touched, as the handler reported it (journey id and version, ...). */
  target?: Record<string, unknown>;
  outcome: 'ok' | 'refused' | 'failed';
  status: number;
  /** The error code of a refused or failed write. */
  code?: string;
  /** The client's address. */
  ip: string;
}

/** Stores one record; resolves once JetStream acknowledged it. */
export async function writeAudit(bus: Bus, record: AuditRecord): Promise<void> {
  await bus.js.publish(AUDIT_SUBJECT, JSON.stringify(record));
}

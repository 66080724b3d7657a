// The admin service in this process on port 0, against a real nats-server, and a client that
// calls it over HTTP with a bearer token.
import type { Bus } from '../../../libs/bus/index.js';
import type { Config } from '../../../libs/config/index.js';
import { createMetrics } from '../../../libs/telemetry/index.js';
import { startAdmin, type Admin, type AdminOptions } from '../../../services/admin/index.js';
import { silentLogger } from '../../helpers/bus.js';

export const WRITE_TOKEN = 'w-0123456789abcdef0123';
export const READ_TOKEN = 'r-0123456789abcdef0123';
/** CAIRN_ADMIN_TOKENS of the tests: `ops` may write, `dash` may read. */
export const TOKENS_ENV = { CAIRN_ADMIN_TOKENS: `ops:write:${WRITE_TOKEN},dash:read:${READ_TOKEN}` };

export interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface AdminClient {
  admin: Admin;
  call(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer>;
}

export async function withAdmin(
  t: { teardown(fn: () => unknown): void },
  bus: Bus,
  config: Config,
  opts: AdminOptions = {},
): Promise<AdminClient> {
  const admin = await startAdmin(
    { bus, config, logger: silentLogger, metrics: createMetrics({ defaultMetrics: false }) },
    { port: 0, host: '127.0.0.1', consoleDir: '/nonexistent', ...opts },
  );
  t.teardown(() => admin.stop(1_000));
  return {
    admin,
    async call(method, path, o = {}) {
      const token = o.token === undefined ? WRITE_TOKEN : o.token;
      const headers: Record<string, string> = { ...o.headers };
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${admin.url}${path}`, {
        method,
        headers,
        ...(o.body !== undefined && { body: JSON.stringify(o.body) }),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the text
      }
      return { status: res.status, headers: res.headers, body };
    },
  };
}

// Connection limits of the HTTP API, against clients that hold sockets open (slow headers, many
// idle connections): a total cap and a per-client-address cap. A connection over a cap is closed
// as it arrives, before any byte of it is read; the counts free up as connections close.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionCaps {
  /** Open connections at most. */
  maxConnections: number;
  /** Open connections at most from one client address; 0: no per-address cap. */
  maxConnectionsPerIp: number;
}

export type RefusedLimit = 'total' | 'per_ip';

/** Applies the caps to `server`; `refused` is told about every connection closed by one. */
export function capConnections(
  server: Server,
  caps: ConnectionCaps,
  refused: (limit: RefusedLimit) => void,
): void {
  // Node closes a connection over maxConnections before emitting 'connection', and emits 'drop'.
  server.maxConnections = caps.maxConnections;
  server.on('drop', () => refused('total'));
  if (caps.maxConnectionsPerIp === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if (count >= caps.maxConnectionsPerIp) {
      refused('per_ip');
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

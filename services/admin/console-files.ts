// The web console's built files (index.html and its assets), served at `/` by the admin service:
// a path that names a file inside the directory gets that file; any other path gets index.html,
// so that the console's own routes (`/journeys/cart`) load it. Nothing outside the directory is
// ever read: the path is resolved and must stay below it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

import type { FastifyReply } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file a URL path names inside `dir`, or undefined when it would leave it. */
export function fileInside(dir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const root = resolve(dir);
  const file = resolve(root, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`);
  return file === root || file.startsWith(root + sep) ? file : undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Answers with the file or index.html; false when the console is not built there. */
export async function serveConsole(dir: string, urlPath: string, reply: FastifyReply): Promise<boolean> {
  const index = resolve(dir, 'index.html');
  if (!(await isFile(index))) return false;
  const named = fileInside(dir, urlPath);
  const file = named !== undefined && (await isFile(named)) ? named : index;
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  void reply
    .code(200)
    .header('content-type', type)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', file === index ? 'no-cache' : 'public, max-age=300')
    .send(createReadStream(file));
  return true;
}

// What is running, for `cairn_build_info`: the package version, Node's, and the git commit. The
// commit comes from `build-info.json` in the package root (`{ "commit": "<sha>" }`, written by an
// image build, which has no .git), else from the checkout's .git, else `unknown`. Read once.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  version: string;
  nodeVersion: string;
  commit: string;
}

const PACKAGE_NAME = 'cairn';
const SHA = /^[0-9a-f]{40}$/;

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  cached ??= readBuildInfo(dirname(fileURLToPath(import.meta.url)));
  return cached;
}

/** Reads the build info of the package whose root holds (or is above) `from`. */
export function readBuildInfo(from: string): BuildInfo {
  const root = packageRoot(from);
  let version = 'unknown';
  if (root !== undefined) {
    try {
      version = String(
        (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version,
      );
    } catch {
      // Left unknown.
    }
  }
  const commit = root === undefined ? undefined : (fileCommit(root) ?? gitCommit(root));
  return { version, nodeVersion: process.version, commit: commit ?? 'unknown' };
}

function packageRoot(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // Not ours: keep looking up.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function fileCommit(root: string): string | undefined {
  try {
    const commit = (JSON.parse(readFileSync(join(root, 'build-info.json'), 'utf8')) as { commit?: unknown })
      .commit;
    return typeof commit === 'string' && commit.trim() !== '' ? commit.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** HEAD of the checkout at `root` (a .git directory, or a worktree's .git file), without git. */
function gitCommit(root: string): string | undefined {
  try {
    const dotGit = join(root, '.git');
    let gitDir = dotGit;
    if (statSync(dotGit).isFile()) {
      const line = readFileSync(dotGit, 'utf8').trim();
      if (!line.startsWith('gitdir:')) return undefined;
      gitDir = resolve(root, line.slice('gitdir:'.length).trim());
    }
    const commonDir = existsSync(join(gitDir, 'commondir'))
      ? resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim())
      : gitDir;
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (SHA.test(head)) return head;
    if (!head.startsWith('ref:')) return undefined;
    const ref = head.slice('ref:'.length).trim();
    for (const dir of [gitDir, commonDir]) {
      const file = join(dir, ref);
      if (existsSync(file)) {
        const sha = readFileSync(file, 'utf8').trim();
        if (SHA.test(sha)) return sha;
      }
    }
    const packed = join(commonDir, 'packed-refs');
    if (existsSync(packed)) {
      for (const line of readFileSync(packed, 'utf8').split('\n')) {
        const [sha, name] = line.trim().split(' ');
        if (name === ref && sha !== undefined && SHA.test(sha)) return sha;
      }
    }
    return undefined;
  } catch {
    return undefined;
  }
}

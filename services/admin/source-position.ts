// The line and column (1-based) a problem's path (`steps[2].to[0]`) points at in a journey's
// YAML or JSON source: the node at that path, or its nearest parent that exists.
import { isNode, LineCounter, parseDocument } from 'yaml';

export function parsePath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

export function positionOf(source: string, path: string): { line: number; column: number } | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) return undefined;
  const parts = parsePath(path);
  for (let n = parts.length; n >= 0; n--) {
    const node = doc.getIn(parts.slice(0, n), true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return undefined;
}

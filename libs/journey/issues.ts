// ValidationIssue construction and the `steps[2].branches[0].next` path notation.
import type { ValidationIssue } from './types.js';

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `['steps', 2, 'where', 'properties.total']` -> `steps[2].where["properties.total"]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN_KEY.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The inverse of formatPath. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const re = /(?:^|\.)([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let match: RegExpExecArray | null;
  while ((match = re.exec(path)) !== null) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push(JSON.parse(match[3] ?? '""') as string);
  }
  return segments;
}

export function error(
  code: string,
  path: readonly PathSegment[],
  message: string,
  hint: string,
): ValidationIssue {
  return { code, severity: 'error', path: formatPath(path), message, hint };
}

export function warning(
  code: string,
  path: readonly PathSegment[],
  message: string,
  hint: string,
): ValidationIssue {
  return { code, severity: 'warning', path: formatPath(path), message, hint };
}

// Journey validation issues, one per line: `file:line:col: severity code at path: message (hint: ...)`.
import type { ValidationIssue } from '../../libs/journey/index.js';

export function formatIssue(file: string, issue: ValidationIssue): string {
  const pos = issue.line === undefined ? '' : `${issue.line}:${issue.column ?? 1}:`;
  const where = issue.path === '' ? 'document' : issue.path;
  const hint = issue.hint ? ` (hint: ${issue.hint})` : '';
  return `${file}:${pos} ${issue.severity} ${issue.code} at ${where}: ${issue.message}${hint}`;
}

// Text -> validated journey. YAML is a superset of JSON, so one parser reads both; syntax errors
// and validation issues carry the line and column they point at.
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { JourneyCodes } from './errors.js';
import { parsePath } from './issues.js';
import type { ValidationIssue } from './types.js';
import { validateJourney, type ValidateOptions, type ValidationResult } from './validate.js';

export interface ParseOptions extends ValidateOptions {
  /** `json` insists on strict JSON; `yaml` (the default) reads YAML and JSON. */
  format?: 'yaml' | 'json';
}

function syntaxIssue(message: string, pos?: { line: number; column: number }): ValidationIssue {
  return {
    code: JourneyCodes.SYNTAX,
    severity: 'error',
    path: '',
    message: pos ? `${message} (line ${pos.line}, column ${pos.column})` : message,
    hint: 'fix the syntax at that position; indentation and unclosed brackets or quotes are the usual causes',
    ...pos,
  };
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

function parseJson(text: string): { value?: unknown; issue?: ValidationIssue } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    // JSON.parse throws SyntaxError; some engines name the offending position.
    const message = `invalid JSON: ${(err as SyntaxError).message}`;
    const at = /position (\d+)/.exec(message);
    return { issue: syntaxIssue(message, at ? positionOf(text, Number(at[1])) : undefined) };
  }
}

/** Adds the source position of the node each issue's path points at (or of its nearest parent). */
function locate(issues: ValidationIssue[], doc: Document, lines: LineCounter): ValidationIssue[] {
  return issues.map((issue) => {
    const path = parsePath(issue.path);
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const { line, col } = lines.linePos(node.range[0]);
        return { ...issue, line, column: col };
      }
    }
    return issue;
  });
}

/** Parses YAML or JSON text and validates the journey in it. */
export function parseJourney(text: string, opts: ParseOptions = {}): ValidationResult {
  if (opts.format === 'json') {
    const { value, issue } = parseJson(text);
    if (issue) return { ok: false, errors: [issue], warnings: [] };
    return validateJourney(value, opts);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return syntaxIssue(`invalid YAML: ${e.message}`, { line, column: col });
    });
    return { ok: false, errors, warnings: [] };
  }
  const result = validateJourney(doc.toJS({ maxAliasCount: 100 }), opts);
  if (result.ok) return { ...result, warnings: locate(result.warnings, doc, lines) };
  return {
    ok: false,
    errors: locate(result.errors, doc, lines),
    warnings: locate(result.warnings, doc, lines),
  };
}

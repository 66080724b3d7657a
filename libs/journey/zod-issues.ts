// zod issues -> ValidationIssues: a Cairn code, a readable message and a hint, never a raw dump.
import * as z from 'zod';
import { isPlainObject } from './conditions.js';
import { JourneyCodes } from './errors.js';
import { error, formatPath, type PathSegment } from './issues.js';
import type { CairnIssueParams } from './schema.js';
import { closest, didYouMean } from './suggest.js';
import type { ValidationIssue } from './types.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'an object';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value) ?? ''}`.trim();
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

function valueAt(root: unknown, path: readonly PathSegment[]): { found: boolean; value: unknown } {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number' && segment < current.length) {
      current = current[segment];
    } else if (isPlainObject(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return { found: false, value: undefined };
  }
  return { found: true, value: current };
}

/** Walks a schema down a path to the object schema there, to list the keys it knows. */
function knownKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let current: unknown = schema;
  let i = 0;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
    else if (current instanceof z.ZodPipe)
      current = current.in instanceof z.ZodTransform ? current.out : current.in;
    else if (current instanceof z.ZodArray || current instanceof z.ZodRecord) {
      current = current instanceof z.ZodArray ? current.element : current.valueType;
      i++;
    } else if (current instanceof z.ZodObject && i < path.length) {
      current = (current.shape as Record<string, unknown>)[String(path[i++])];
    } else return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
  }
}

/**
 * Maps the issues of `schema.safeParse(input)` to ValidationIssues under `prefix`.
 * `input` is what was parsed (to tell a missing field from a wrong one).
 */
export function mapZodIssues(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  input: unknown,
  prefix: readonly PathSegment[],
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const rel = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
    const path = [...prefix, ...rel];
    const last = rel.at(-1);
    const here = valueAt(input, rel);
    const params = (issue as { params?: Partial<CairnIssueParams> }).params;
    if (params?.cairn) {
      out.push(error(params.cairn.code, path, issue.message, params.cairn.hint));
      continue;
    }
    if (!here.found && typeof last === 'string' && issue.code !== 'unrecognized_keys') {
      const parent = formatPath(path.slice(0, -1)) || 'the document';
      out.push(
        error(
          JourneyCodes.MISSING_FIELD,
          path,
          `'${last}' is required`,
          `add '${last}' to ${parent}${issue.code === 'invalid_type' ? ` (${EXPECTED[issue.expected] ?? issue.expected})` : ''}`,
        ),
      );
      continue;
    }
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, rel);
        for (const key of issue.keys) {
          out.push(
            error(
              JourneyCodes.UNKNOWN_KEY,
              [...path, key],
              `unknown key '${key}'`,
              known.length > 0 ? didYouMean(key, known, 'the known keys') : 'remove it',
            ),
          );
        }
        break;
      }
      case 'invalid_type':
        out.push(
          error(
            JourneyCodes.WRONG_TYPE,
            path,
            `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(here.value)}`,
            `write ${EXPECTED[issue.expected] ?? issue.expected} at ${formatPath(path) || 'the top level'}`,
          ),
        );
        break;
      case 'invalid_value': {
        const allowed = issue.values.map((v) => String(v));
        const guess = typeof here.value === 'string' ? closest(here.value, allowed) : undefined;
        out.push(
          error(
            JourneyCodes.BAD_VALUE,
            path,
            `${JSON.stringify(here.value)} is not allowed here`,
            (guess ? `did you mean '${guess}'? ` : '') + `use one of: ${allowed.join(', ')}`,
          ),
        );
        break;
      }
      case 'too_small': {
        // Every minimum in the schema is 1: a required text or list left empty.
        const text = issue.origin === 'string';
        out.push(
          error(
            JourneyCodes.EMPTY,
            path,
            `this ${text ? 'text' : 'list'} must not be empty`,
            `write at least one ${text ? 'character' : 'item'}`,
          ),
        );
        break;
      }
      default:
        out.push(
          error(
            issue.code === 'custom' ? JourneyCodes.WRONG_TYPE : JourneyCodes.BAD_VALUE,
            path,
            issue.message,
            'see docs/journeys.md for the shape of this field',
          ),
        );
    }
  }
  return out;
}

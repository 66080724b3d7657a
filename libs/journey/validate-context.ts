// Paths into the journey context (delay until, payload mappings, data split conditions) and the
// correlation check: in an every_time journey, the events that must find their instance by key
// (hold branches, sameKey exits) have to carry the uniqueBy property.
import { exitRulePath, type Draft } from './draft.js';
import { JourneyCodes } from './errors.js';
import { error, warning, type PathSegment } from './issues.js';
import { closest } from './suggest.js';
import type { ValidationIssue } from './types.js';

export const CONTEXT_ROOTS = ['entry', 'events', 'profile', 'journey'] as const;
const SECOND: Record<string, readonly string[]> = {
  profile: ['traits', 'audiences'],
  journey: ['id', 'version', 'instanceKey', 'enteredAt'],
};

const ROOTS_HINT =
  'start the path at a context root: entry.<event path>, events.<branch id or event>.<path>, profile.traits.<trait>, profile.audiences, or journey.<id|version|instanceKey|enteredAt>';

/** Why `path` is not a context path, or undefined when it is one. */
export function contextPathProblem(path: string): string | undefined {
  const [root, second] = path.split('.');
  if (root === undefined || !(CONTEXT_ROOTS as readonly string[]).includes(root)) {
    const guess = root === undefined ? undefined : closest(root, CONTEXT_ROOTS);
    return `'${path}' does not start at a context root` + (guess ? ` (did you mean '${guess}'?)` : '');
  }
  if (second === undefined) return `'${path}' names a whole context root, not a value in it`;
  const allowed = SECOND[root];
  if (allowed && !allowed.includes(second)) {
    return `'${path}': ${root} has only ${allowed.join(', ')}`;
  }
  return undefined;
}

interface Checker {
  issues: ValidationIssue[];
  /** Names `events.<name>` can use. */
  known: Set<string>;
}

function contextPath(c: Checker, path: PathSegment[], value: string, what: string, extra: string[] = []) {
  const problem = contextPathProblem(value);
  if (problem !== undefined) {
    c.issues.push(error(JourneyCodes.NOT_A_CONTEXT_PATH, path, `${what}: ${problem}`, ROOTS_HINT));
    return;
  }
  const [root, name] = value.split('.');
  if (root === 'events' && name !== undefined && !c.known.has(name) && !extra.includes(name)) {
    const names = [...c.known, ...extra];
    const guess = closest(name, names);
    c.issues.push(
      warning(
        JourneyCodes.UNKNOWN_CONTEXT_EVENT,
        path,
        `${what}: no hold branch captures an event named '${name}', so '${value}' will be missing`,
        (guess ? `did you mean '${guess}'? ` : '') + `names in this journey: ${names.join(', ') || '(none)'}`,
      ),
    );
  }
}

function carried(carries: readonly string[], uniqueBy: string): boolean {
  return carries.some((p) => p === uniqueBy || p.startsWith(`${uniqueBy}.`));
}

function correlation(draft: Draft, issues: ValidationIssue[]) {
  if (draft.entry?.mode !== 'every_time') return;
  const uniqueBy = draft.entry.uniqueBy;
  const check = (event: string, path: PathSegment[], mustDeclare: boolean, role: string) => {
    const declared = draft.events?.[event];
    if (declared && !carried(declared.carries, uniqueBy)) {
      issues.push(
        error(
          JourneyCodes.UNIQUE_BY_NOT_CARRIED,
          path,
          `'${event}' (${role}) does not carry ${uniqueBy} (per events.${event}), so it can never find its instance`,
          `send ${uniqueBy} with '${event}' and add it to events.${event}, or use entry mode once`,
        ),
      );
    } else if (!declared && mustDeclare) {
      issues.push(
        warning(
          JourneyCodes.UNIQUE_BY_UNVERIFIED,
          path,
          `cannot verify that '${event}' (${role}) carries ${uniqueBy}`,
          `declare the event under events: with an example, e.g. events: { ${event}: { example: { properties: { ... } } } }`,
        ),
      );
    }
  };
  if (draft.trigger) check(draft.trigger.event, ['trigger', 'event'], false, 'the trigger event');
  draft.steps.forEach((s, i) => {
    if (s?.type !== 'hold_until') return;
    s.branches.forEach((b, j) =>
      check(b.event, ['steps', i, 'branches', j, 'event'], true, `hold branch '${b.id}'`),
    );
  });
  draft.exit?.rules.forEach((rule, k) => {
    if (rule.sameKey) check(rule.event, [...exitRulePath(draft, k), 'event'], true, 'a sameKey exit rule');
  });
}

export function checkContext(draft: Draft): ValidationIssue[] {
  const c: Checker = { issues: [], known: new Set() };
  if (draft.trigger) c.known.add(draft.trigger.event);
  for (const s of draft.steps) {
    if (s?.type !== 'hold_until') continue;
    for (const b of s.branches) {
      c.known.add(b.id);
      c.known.add(b.event);
      c.known.add(`${b.event} - ${b.id}`);
    }
  }
  draft.steps.forEach((s, i) => {
    if (s?.type === 'delay' && 'until' in s) {
      contextPath(c, ['steps', i, 'until'], s.until, 'delay until');
    } else if (s?.type === 'send') {
      for (const [key, path] of Object.entries(s.payload ?? {})) {
        contextPath(c, ['steps', i, 'payload', key], path, `payload key '${key}'`);
      }
    } else if (s?.type === 'data_split') {
      s.branches.forEach((b, j) => {
        for (const path of new Set(b.where.map((cond) => cond.path))) {
          contextPath(c, ['steps', i, 'branches', j, 'where', path], path, 'data split condition');
        }
      });
    }
  });
  const exitEvents = draft.exit?.rules.map((r) => r.event) ?? [];
  for (const [key, path] of Object.entries(draft.exit?.send?.payload ?? {})) {
    contextPath(c, ['exit', 'send', 'payload', key], path, `payload key '${key}'`, exitEvents);
  }
  correlation(draft, c.issues);
  return c.issues;
}

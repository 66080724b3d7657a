// The draft editor: YAML in a textarea with line numbers, validated as you type (problems marked
// at their line), a send step's payload previewed for a sample event, a simulation over pasted
// ndjson, and publish (write).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, describeError, type Problem, type Validation } from '../api.js';
import { useCanWrite } from '../session.js';
import { ErrorLine, Status, text } from '../util.js';
import { DRAFT_KEY } from './journey.js';

const STARTER = `id: my-journey
name: My journey
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait-for-purchase
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: done }
    timeout: { after: 1h, next: nudge }
  - { id: nudge, type: send, to: [demo-webhook], event: Cart Abandoned }
  - { id: done, type: exit }
`;

/** The send steps' ids, read from the text (for the preview's choice; the server checks it). */
function sendStepIds(source: string): string[] {
  const ids: string[] = [];
  const re = /id:\s*([a-z0-9_-]+)[^\n]*?type:\s*send|type:\s*send[^\n]*?id:\s*([a-z0-9_-]+)/g;
  for (const m of source.matchAll(re)) ids.push((m[1] ?? m[2])!);
  // Block style: `- id: x` followed by `type: send` on a later line of the same item.
  const blocks = source.split(/\n\s*-\s+(?=id:)/);
  for (const b of blocks) {
    const m = /^id:\s*([a-z0-9_-]+)\s*\n(?:[^\n]*\n)*?\s*type:\s*send\b/.exec(b);
    if (m?.[1] && !ids.includes(m[1])) ids.push(m[1]);
  }
  return ids;
}

export function DraftPage() {
  const canWrite = useCanWrite();
  const [source, setSource] = useState(() => sessionStorage.getItem(DRAFT_KEY) ?? STARTER);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const editor = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    sessionStorage.setItem(DRAFT_KEY, source);
    setChecking(true);
    let live = true;
    const timer = setTimeout(() => {
      api<Validation>('POST', '/journeys/validate', { source }).then(
        (v) => {
          if (!live) return;
          setValidation(v);
          setError(null);
          setChecking(false);
        },
        (err: unknown) => {
          if (!live) return;
          setError(describeError(err));
          setChecking(false);
        },
      );
    }, 350);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [source]);

  const problems: Problem[] = validation && !validation.ok ? validation.problems : [];
  const byLine = new Map<number, Problem[]>();
  for (const p of problems) if (p.line) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p]);
  const lines = source.split('\n');

  const goTo = (p: Problem) => {
    const ta = editor.current;
    if (!ta || !p.line) return;
    let offset = 0;
    for (let i = 0; i < p.line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
    offset += Math.max(0, (p.column ?? 1) - 1);
    ta.focus();
    ta.setSelectionRange(offset, offset);
  };

  return (
    <section aria-labelledby="draft-title">
      <div class="page-head">
        <h1 id="draft-title">Draft</h1>
        <span class="muted">Paste or edit a journey in YAML; it is checked as you type.</span>
      </div>
      <ErrorLine error={error} />
      <div class="split">
        <div class="pane">
          <label for="draft-source" class="block">
            Journey source (YAML)
          </label>
          <div class="editor" data-testid="editor">
            <div class="gutter" aria-hidden="true">
              {lines.map((_, i) => {
                const at = byLine.get(i + 1);
                return (
                  <div
                    key={i}
                    class={at ? 'gutter-line has-problem' : 'gutter-line'}
                    data-testid={`gutter-${i + 1}`}
                    title={at?.map((p) => p.message).join('\n')}
                  >
                    {at ? '●' : ''}
                    {i + 1}
                  </div>
                );
              })}
            </div>
            <textarea
              id="draft-source"
              ref={editor}
              spellcheck={false}
              rows={lines.length + 1}
              wrap="off"
              aria-describedby="draft-problems-title"
              aria-invalid={problems.length > 0}
              value={source}
              onInput={(e) => setSource(e.currentTarget.value)}
            />
          </div>
        </div>
        <div class="pane side">
          <h2 id="draft-problems-title">
            {checking
              ? 'Checking…'
              : error || !validation
                ? 'Not checked'
                : validation.ok
                  ? 'No problems'
                  : `${problems.length} problem(s)`}
          </h2>
          <div aria-live="polite">
            {validation?.ok && (
              <p class="ok" data-testid="draft-ok">
                Valid: journey <code>{validation.id}</code>.
              </p>
            )}
            {problems.length > 0 && (
              <ul class="problems" data-testid="problems">
                {problems.map((p, i) => (
                  <li key={i} data-line={p.line}>
                    <button type="button" class="link" onClick={() => goTo(p)} disabled={!p.line}>
                      {p.line
                        ? `Line ${p.line}${p.column ? `, column ${p.column}` : ''}`
                        : p.path || 'document'}
                    </button>
                    : {p.message}
                    {p.hint && <div class="hint">Fix: {p.hint}</div>}
                    {p.code && <div class="muted">{p.code}</div>}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <Preview source={source} />
          <Simulate source={source} />
          <Publish source={source} canWrite={canWrite} valid={validation?.ok === true} />
        </div>
      </div>
    </section>
  );
}

function Preview(props: { source: string }) {
  const ids = sendStepIds(props.source);
  const [stepId, setStepId] = useState('');
  const [event, setEvent] = useState(
    '{\n  "type": "track",\n  "event": "checkout_started",\n  "userId": "u-1",\n  "properties": { "cart_id": "c-1" }\n}',
  );
  const [out, setOut] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setError(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(event);
    } catch (err) {
      setError(`The sample event is not JSON: ${String(err)}`);
      return;
    }
    try {
      const r = await api<{ payload: unknown }>('POST', '/preview', {
        source: props.source,
        stepId: stepId || ids[0],
        event: parsed,
      });
      setOut(JSON.stringify(r.payload, null, 2));
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <details class="tool">
      <summary>Preview a send step's payload</summary>
      <label for="preview-step">Send step</label>
      <input
        id="preview-step"
        list="send-steps"
        value={stepId}
        placeholder={ids[0] ?? 'step id'}
        onInput={(e) => setStepId(e.currentTarget.value)}
      />
      <datalist id="send-steps">
        {ids.map((id) => (
          <option key={id} value={id} />
        ))}
      </datalist>
      <label for="preview-event">Sample event (JSON)</label>
      <textarea
        id="preview-event"
        rows={7}
        spellcheck={false}
        value={event}
        onInput={(e) => setEvent(e.currentTarget.value)}
      />
      <button type="button" onClick={() => void run()}>
        Preview
      </button>
      <ErrorLine error={error} />
      {out && (
        <pre data-testid="preview-payload" aria-label="Payload">
          {out}
        </pre>
      )}
    </details>
  );
}

function Simulate(props: { source: string }) {
  const [events, setEvents] = useState('');
  const [out, setOut] = useState<{ deliveries: unknown[]; journal: Array<Record<string, unknown>> } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setError(null);
    try {
      setOut(await api('POST', '/simulate', { source: props.source, events }));
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <details class="tool">
      <summary>Simulate against events</summary>
      <label for="sim-events">Events (ndjson, one event a line)</label>
      <textarea
        id="sim-events"
        rows={6}
        spellcheck={false}
        value={events}
        onInput={(e) => setEvents(e.currentTarget.value)}
      />
      <button type="button" onClick={() => void run()}>
        Simulate
      </button>
      <ErrorLine error={error} />
      {out && (
        <div data-testid="simulation">
          <h3>{out.deliveries.length} deliveries</h3>
          <pre>{out.deliveries.map((d) => JSON.stringify(d)).join('\n')}</pre>
          <h3>Journal ({out.journal.length})</h3>
          <ol class="timeline compact">
            {out.journal.map((r, i) => (
              <li key={i}>
                <code>{text(r.type)}</code> {r.stepId ? `at ${text(r.stepId)}` : ''}{' '}
                {r.branchId ? `via ${text(r.branchId)}` : ''} {r.reason ? `(${text(r.reason)})` : ''}
              </li>
            ))}
          </ol>
        </div>
      )}
    </details>
  );
}

function Publish(props: { source: string; canWrite: boolean; valid: boolean }) {
  const [shadow, setShadow] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!props.canWrite) {
    return (
      <p class="muted" data-testid="publish-readonly">
        This token is read-only: publishing needs a token with the write role.
      </p>
    );
  }
  const publish = async () => {
    setError(null);
    setResult(null);
    setBusy(true);
    try {
      const r = await api<{ id: string; version: number; unchanged: boolean }>('POST', '/journeys', {
        source: props.source,
        ...(shadow && { shadow: true }),
      });
      setResult(
        r.unchanged
          ? `Unchanged: ${r.id} v${r.version} already has this content.`
          : `Published ${r.id} v${r.version}${shadow ? ' as shadow' : ''}.`,
      );
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="tool publish">
      <label class="inline">
        <input type="checkbox" checked={shadow} onChange={(e) => setShadow(e.currentTarget.checked)} />{' '}
        Publish as a shadow version (journaled, never sent)
      </label>
      <button type="button" class="primary" disabled={!props.valid || busy} onClick={() => void publish()}>
        Publish
      </button>
      {result && <Status>{result}</Status>}
      <ErrorLine error={error} />
    </div>
  );
}

// Operations: stage health, destinations with their circuit, and the DLQ (filters, attempt
// history, retry and drop for a write token).
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, describeError, type Destination, type DlqRecord, type Health } from '../api.js';
import { useCanWrite } from '../session.js';
import { ErrorLine, Status, text, useLoad, when } from '../util.js';

export function OperationsPage() {
  return (
    <section aria-labelledby="ops-title">
      <div class="page-head">
        <h1 id="ops-title">Operations</h1>
      </div>
      <Dlq />
      <Destinations />
      <HealthPanel />
    </section>
  );
}

/** The consumers of each stage summed: pending, ack pending, the largest lag. */
function byStage(stages: Health['stages']) {
  const out = new Map<
    string,
    { stage: string; consumers: number; pending: number; ackPending: number; lagSeconds?: number }
  >();
  for (const s of stages) {
    const o = out.get(s.stage) ?? { stage: s.stage, consumers: 0, pending: 0, ackPending: 0 };
    o.consumers += 1;
    o.pending += s.pending;
    o.ackPending += s.ackPending;
    if (s.lagSeconds !== undefined) o.lagSeconds = Math.max(o.lagSeconds ?? 0, s.lagSeconds);
    out.set(s.stage, o);
  }
  return [...out.values()];
}

function HealthPanel() {
  const health = useLoad(() => api<Health>('GET', '/health'), []);
  const h = health.data;
  return (
    <section aria-labelledby="health-title" class="panel">
      <div class="panel-head">
        <h2 id="health-title">Stage health</h2>
        <button type="button" onClick={health.reload}>
          Refresh
        </button>
      </div>
      <ErrorLine error={health.error} />
      {h && (
        <>
          <p>
            Watermark age:{' '}
            {h.watermarkAgeSeconds === null || h.watermarkAgeSeconds === undefined
              ? 'none yet'
              : `${h.watermarkAgeSeconds.toFixed(1)} s`}
          </p>
          <table data-testid="health">
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col" class="num">
                  Consumers
                </th>
                <th scope="col" class="num">
                  Pending
                </th>
                <th scope="col" class="num">
                  Ack pending
                </th>
                <th scope="col" class="num">
                  Largest lag (s)
                </th>
              </tr>
            </thead>
            <tbody>
              {byStage(h.stages).map((s) => (
                <tr key={s.stage}>
                  <th scope="row">{s.stage}</th>
                  <td class="num">{s.consumers}</td>
                  <td class={`num ${s.pending > 0 ? 'warn' : ''}`}>{s.pending}</td>
                  <td class="num">{s.ackPending}</td>
                  <td class="num">{s.lagSeconds === undefined ? '–' : s.lagSeconds.toFixed(1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details>
            <summary>Every consumer ({h.stages.length})</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col">Consumer</th>
                  <th scope="col" class="num">
                    Pending
                  </th>
                  <th scope="col" class="num">
                    Ack pending
                  </th>
                  <th scope="col" class="num">
                    Lag (s)
                  </th>
                </tr>
              </thead>
              <tbody>
                {h.stages.map((s) => (
                  <tr key={`${s.stage}/${s.consumer}`}>
                    <td>{s.stage}</td>
                    <td>{s.consumer}</td>
                    <td class={`num ${s.pending > 0 ? 'warn' : ''}`}>{s.pending}</td>
                    <td class="num">{s.ackPending}</td>
                    <td class="num">{s.lagSeconds === undefined ? '–' : s.lagSeconds.toFixed(1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

function Destinations() {
  const canWrite = useCanWrite();
  const list = useLoad(() => api<{ destinations: Destination[] }>('GET', '/destinations'), []);
  const [tested, setTested] = useState<Record<string, string>>({});
  const test = async (id: string) => {
    try {
      const r = await api<{ ok: boolean; status: number; ms: number }>(
        'POST',
        `/destinations/${encodeURIComponent(id)}/test`,
      );
      setTested((t) => ({ ...t, [id]: `${r.ok ? 'ok' : 'failed'}: HTTP ${r.status} in ${r.ms} ms` }));
    } catch (err) {
      setTested((t) => ({ ...t, [id]: describeError(err) }));
    }
  };
  return (
    <section aria-labelledby="dest-title" class="panel">
      <div class="panel-head">
        <h2 id="dest-title">Destinations</h2>
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <ErrorLine error={list.error} />
      {list.data && (
        <table data-testid="destinations">
          <thead>
            <tr>
              <th scope="col">Destination</th>
              <th scope="col">Kind</th>
              <th scope="col">URL</th>
              <th scope="col">Circuit</th>
              {canWrite && <th scope="col">Test</th>}
            </tr>
          </thead>
          <tbody>
            {list.data.destinations.map((d) => (
              <tr key={d.id} data-testid={`destination-${d.id}`}>
                <th scope="row">{d.id}</th>
                <td>{d.type ?? d.kind}</td>
                <td>
                  <code>{d.url ?? ''}</code>
                </td>
                <td>
                  {d.disabled ? (
                    <span class="badge circuit-open" title={text(d.disabled)}>
                      disabled
                    </span>
                  ) : (
                    <span class={`badge circuit-${(d.circuit ?? 'unknown').replace('_', '-')}`}>
                      {d.circuit ?? 'unknown'}
                    </span>
                  )}
                </td>
                {canWrite && (
                  <td>
                    <button
                      type="button"
                      onClick={() => void test(d.id)}
                      aria-label={`Send a test request to ${d.id}`}
                    >
                      Test
                    </button>{' '}
                    <span role="status">{tested[d.id] ?? ''}</span>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Dlq() {
  const canWrite = useCanWrite();
  const [destination, setDestination] = useState('');
  const [journey, setJourney] = useState('');
  const [filters, setFilters] = useState({ destination: '', journey: '' });
  const list = useLoad(() => {
    const q = new URLSearchParams();
    if (filters.destination) q.set('destination', filters.destination);
    if (filters.journey) q.set('journey', filters.journey);
    q.set('limit', '100');
    return api<{ records: DlqRecord[] }>('GET', `/dlq?${q.toString()}`);
  }, [filters.destination, filters.journey]);
  const [open, setOpen] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const act = async (seq: number, what: 'retry' | 'drop') => {
    setError(null);
    setMessage(null);
    if (what === 'drop' && !confirm(`Drop DLQ record ${seq}? It is deleted for good.`)) return;
    try {
      if (what === 'retry') await api('POST', `/dlq/${seq}/retry`);
      else await api('DELETE', `/dlq/${seq}`);
      setMessage(what === 'retry' ? `Record ${seq} sent for delivery again.` : `Record ${seq} dropped.`);
      list.reload();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const records = list.data?.records ?? [];
  return (
    <section aria-labelledby="dlq-title" class="panel">
      <div class="panel-head">
        <h2 id="dlq-title">Dead-letter queue</h2>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters({ destination: destination.trim(), journey: journey.trim() });
          }}
        >
          <label for="dlq-destination">Destination</label>
          <input
            id="dlq-destination"
            value={destination}
            onInput={(e) => setDestination(e.currentTarget.value)}
          />
          <label for="dlq-journey">Journey</label>
          <input id="dlq-journey" value={journey} onInput={(e) => setJourney(e.currentTarget.value)} />
          <button type="submit">Filter</button>
        </form>
      </div>
      <ErrorLine error={list.error ?? error} />
      {message && <Status>{message}</Status>}
      {list.data && records.length === 0 && (
        <p class="muted">
          The DLQ is empty{filters.destination || filters.journey ? ' for these filters' : ''}.
        </p>
      )}
      {records.length > 0 && (
        <table data-testid="dlq">
          <thead>
            <tr>
              <th scope="col" class="num">
                Seq
              </th>
              <th scope="col">When</th>
              <th scope="col">Destination</th>
              <th scope="col">Journey</th>
              <th scope="col">Delivery id</th>
              <th scope="col">Reason</th>
              <th scope="col" class="num">
                Attempts
              </th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <Fragment key={r.seq}>
                <tr data-testid={`dlq-${r.seq}`} data-delivery={r.deliveryId}>
                  <td class="num">{r.seq}</td>
                  <td>{when(r.at)}</td>
                  <td>{r.destination}</td>
                  <td>{r.journeyId}</td>
                  <td>
                    <code>{r.deliveryId}</code>
                  </td>
                  <td>{r.reason}</td>
                  <td class="num">{Array.isArray(r.attempts) ? r.attempts.length : r.attempts}</td>
                  <td class="actions">
                    <button
                      type="button"
                      aria-expanded={open === r.seq}
                      aria-controls={`dlq-history-${r.seq}`}
                      onClick={() => setOpen(open === r.seq ? null : r.seq)}
                    >
                      History
                    </button>
                    {canWrite && (
                      <>
                        <button
                          type="button"
                          onClick={() => void act(r.seq, 'retry')}
                          aria-label={`Retry record ${r.seq}`}
                        >
                          Retry
                        </button>
                        <button
                          type="button"
                          class="danger"
                          onClick={() => void act(r.seq, 'drop')}
                          aria-label={`Drop record ${r.seq}`}
                        >
                          Drop
                        </button>
                      </>
                    )}
                  </td>
                </tr>
                {open === r.seq && (
                  <tr id={`dlq-history-${r.seq}`}>
                    <td colSpan={8}>
                      <DlqHistory seq={r.seq} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DlqHistory(props: { seq: number }) {
  const rec = useLoad(() => api<DlqRecord>('GET', `/dlq/${props.seq}`), [props.seq]);
  if (rec.error) return <ErrorLine error={rec.error} />;
  if (!rec.data) return <Status>Loading record {props.seq}…</Status>;
  // The DLQ record keeps its attempts as a list ({ n, at, durationMs, outcome, status, detail });
  // the list row may carry only their number.
  const list = Array.isArray(rec.data.attempts) ? rec.data.attempts : rec.data.history;
  const history = (Array.isArray(list) ? list : []) as Array<Record<string, unknown>>;
  return (
    <div data-testid={`dlq-history-${props.seq}`}>
      <h3>Attempt history</h3>
      {history.length > 0 ? (
        <ol>
          {history.map((a, i) => (
            <li key={i}>
              {when((a.at ?? a.time) as number | string)}{' '}
              {a.status !== undefined ? `HTTP ${text(a.status)}` : ''} {text(a.error)}{' '}
              {a.ms !== undefined ? `${text(a.ms)} ms` : ''}
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">No attempt history recorded.</p>
      )}
      <details>
        <summary>The stored record</summary>
        <pre>{JSON.stringify(rec.data, null, 2)}</pre>
      </details>
    </div>
  );
}

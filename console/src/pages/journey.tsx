// One journey: its graph with the live counts of the chosen version and window, the versions to
// switch between, the raw source beside it, and archive (write).
import { useMemo, useState } from 'preact/hooks';
import { journeyGraph, type JourneyGraph } from '../../../libs/journey/graph.js';
import type { JourneyDocument } from '../../../libs/journey/types.js';
import { api, describeError, type JourneyDetail, type JourneyStats, type JourneyVersion } from '../api.js';
import { GraphView } from '../graph-view.js';
import { graphCounts } from '../graph-stats.js';
import { useCanWrite } from '../session.js';
import { ErrorLine, Status, useLoad, when } from '../util.js';

const WINDOWS = [
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: '', label: 'All time (as kept)' },
];

export const DRAFT_KEY = 'cairn.console.draft';

export function JourneyPage(props: { id: string; version: string | null }) {
  const id = props.id;
  const canWrite = useCanWrite();
  const detail = useLoad(() => api<JourneyDetail>('GET', `/journeys/${encodeURIComponent(id)}`), [id]);
  const versions = detail.data?.versions ?? [];
  const chosen =
    props.version ??
    String(
      versions.find((v) => v.status === 'active')?.version ?? versions[versions.length - 1]?.version ?? '',
    );
  const [since, setSince] = useState('24h');
  const version = useLoad(
    () =>
      chosen
        ? api<JourneyVersion>('GET', `/journeys/${encodeURIComponent(id)}/versions/${chosen}`)
        : Promise.resolve(null),
    [id, chosen],
  );
  const stats = useLoad(
    () =>
      chosen
        ? api<JourneyStats>(
            'GET',
            `/journeys/${encodeURIComponent(id)}/stats?version=${chosen}${since ? `&since=${since}` : ''}`,
          )
        : Promise.resolve(null),
    [id, chosen, since],
  );
  // Drawn from the version's document with the same function the server uses for `graph`, so that
  // the edges carry the branch keys the stats are counted under.
  const graph: JourneyGraph | null = useMemo(
    () => (version.data ? journeyGraph(version.data.document as JourneyDocument) : null),
    [version.data],
  );
  const counts = useMemo(
    () => (graph && stats.data ? graphCounts(graph, stats.data) : null),
    [graph, stats.data],
  );
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const archive = async () => {
    if (!confirm(`Archive ${id}? Its instances exit and no new ones enter.`)) return;
    setActionError(null);
    try {
      const r = await api<{ id: string; version: number }>(
        'POST',
        `/journeys/${encodeURIComponent(id)}/archive`,
      );
      setMessage(`Archived ${r.id} v${r.version}.`);
      detail.reload();
    } catch (err) {
      setActionError(describeError(err));
    }
  };

  const s = stats.data;
  return (
    <section aria-labelledby="journey-title">
      <div class="page-head">
        <h1 id="journey-title">
          Journey <code>{id}</code>
        </h1>
        <label>
          Version{' '}
          <select
            value={chosen}
            onChange={(e) =>
              (location.hash = `#/journeys/${encodeURIComponent(id)}?v=${e.currentTarget.value}`)
            }
          >
            {versions.map((v) => (
              <option key={v.version} value={String(v.version)}>
                v{v.version} ({v.status}, {when(v.publishedAt)})
              </option>
            ))}
          </select>
        </label>
        <label>
          Window{' '}
          <select value={since} onChange={(e) => setSince(e.currentTarget.value)}>
            {WINDOWS.map((w) => (
              <option key={w.value} value={w.value}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => {
            version.reload();
            stats.reload();
          }}
        >
          Refresh
        </button>
        {version.data && (
          <a
            class="button"
            href="#/draft"
            onClick={() => sessionStorage.setItem(DRAFT_KEY, version.data?.source ?? '')}
          >
            Edit as draft
          </a>
        )}
        {canWrite && (
          <button type="button" class="danger" onClick={() => void archive()}>
            Archive
          </button>
        )}
      </div>
      <ErrorLine error={detail.error ?? version.error ?? stats.error ?? actionError} />
      {message && <Status>{message}</Status>}
      {s && (
        <dl class="tiles" data-testid="journey-stats">
          <div>
            <dt>Entered</dt>
            <dd data-testid="stat-entered">{s.entered}</dd>
          </div>
          <div>
            <dt>Active now</dt>
            <dd>{s.active}</dd>
          </div>
          <div>
            <dt>Completed</dt>
            <dd>{s.completed}</dd>
          </div>
          <div>
            <dt>Exited</dt>
            <dd>{Object.values(s.exited).reduce((a, b) => a + b, 0)}</dd>
          </div>
          <div>
            <dt>Refused</dt>
            <dd
              title={Object.entries(s.refused)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')}
            >
              {Object.values(s.refused).reduce((a, b) => a + b, 0)}
            </dd>
          </div>
        </dl>
      )}
      <p class="muted">
        Nodes: times reached and share of entries; edges: instances that took the edge and share of those that
        reached its source
        {s
          ? `; window from ${s.window.since ? when(s.window.since) : 'the start'} to ${when(s.window.until)}`
          : ''}
        .
      </p>
      <div class="split">
        <div class="pane graph-pane">
          {graph ? (
            <GraphView graph={graph} counts={counts} title={`Journey ${id} v${chosen}`} />
          ) : (
            (version.loading || detail.loading) && <Status>Loading the journey…</Status>
          )}
        </div>
        <div class="pane source-pane">
          <h2 id="source-title">Source (v{chosen})</h2>
          <pre aria-labelledby="source-title" tabIndex={0} data-testid="source">
            {version.data?.source ?? ''}
          </pre>
        </div>
      </div>
    </section>
  );
}

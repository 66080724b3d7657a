// Journeys: every journey with its status, versions and today's numbers.
import { api, type JourneySummary } from '../api.js';
import { ErrorLine, Status, useLoad } from '../util.js';

export function JourneysPage() {
  // The list carries the active version's numbers (last 24 hours) and the dead letters.
  const list = useLoad(() => api<{ journeys: JourneySummary[] }>('GET', '/journeys'), []);
  const journeys = list.data?.journeys ?? [];
  return (
    <section aria-labelledby="journeys-title">
      <div class="page-head">
        <h1 id="journeys-title">Journeys</h1>
        <a class="button" href="#/draft">
          New draft
        </a>
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <ErrorLine error={list.error} />
      {list.loading && !list.data && <Status>Loading journeys…</Status>}
      {list.data && journeys.length === 0 && <Status>No journey is published yet.</Status>}
      {journeys.length > 0 && (
        <table data-testid="journeys">
          <caption class="sr-only">Published journeys</caption>
          <thead>
            <tr>
              <th scope="col">Journey</th>
              <th scope="col">Status</th>
              <th scope="col">Version</th>
              <th scope="col" class="num">
                Entered (24 h)
              </th>
              <th scope="col" class="num">
                At a step now
              </th>
              <th scope="col" class="num">
                Deliveries (24 h)
              </th>
              <th scope="col" class="num">
                Dead-lettered
              </th>
            </tr>
          </thead>
          <tbody>
            {journeys.map((j) => (
              <tr key={j.id} data-testid={`journey-${j.id}`}>
                <th scope="row">
                  <a href={`#/journeys/${encodeURIComponent(j.id)}`}>{j.name ?? j.id}</a>
                  {j.name && <span class="muted"> {j.id}</span>}
                </th>
                <td>
                  <span class={`badge badge-${j.status}`}>{j.status}</span>
                </td>
                <td>
                  {j.active !== null ? `v${j.active} active` : 'none active'}
                  {j.latest !== j.active ? `, v${j.latest} latest` : ''}
                  {typeof j.shadow === 'number' ? `, v${j.shadow} shadow` : ''}
                </td>
                <td class="num">{j.enteredToday ?? '–'}</td>
                <td class="num">{j.current ?? '–'}</td>
                <td class="num">{j.deliveries ?? '–'}</td>
                <td class={`num ${(j.failures ?? 0) > 0 ? 'bad' : ''}`}>{j.failures ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

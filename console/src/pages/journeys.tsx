// Journeys: every journey with its status, versions and today's numbers.
import { api, type DlqRecord, type JourneyStats, type JourneySummary } from '../api.js';
import { ErrorLine, Status, useLoad } from '../util.js';

/** The day's numbers of a journey the list does not carry, from its stats (last 24 hours) and
 * the DLQ (its dead-lettered deliveries). */
async function withCounts(j: JourneySummary): Promise<JourneySummary> {
  if (typeof j.enteredToday === 'number' || j.active === null) return j;
  const id = encodeURIComponent(j.id);
  const [stats, dlq] = await Promise.all([
    api<JourneyStats>('GET', `/journeys/${id}/stats?version=${j.active}&since=24h`).catch(() => null),
    api<{ records: DlqRecord[] }>('GET', `/dlq?journey=${id}&limit=1000`).catch(() => null),
  ]);
  if (!stats) return j;
  let current = 0;
  let deliveries = 0;
  for (const step of stats.steps) {
    current += step.current;
    for (const s of Object.values(step.sends ?? {})) deliveries += s.sent;
  }
  return { ...j, enteredToday: stats.entered, current, deliveries, failures: dlq?.records.length ?? 0 };
}

export function JourneysPage() {
  const list = useLoad(async () => {
    const { journeys } = await api<{ journeys: JourneySummary[] }>('GET', '/journeys');
    return { journeys: await Promise.all(journeys.map(withCounts)) };
  }, []);
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

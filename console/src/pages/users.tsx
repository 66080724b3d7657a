// Users: one person's instances (current step, deadline) and their timeline: entered, steps,
// waits, sends with delivery ids and outcomes, refusals with the reason why not.
import { useState } from 'preact/hooks';
import { api, type TimelineRecord, type UserView } from '../api.js';
import { ErrorLine, Status, text, useLoad, when } from '../util.js';

/** Why an entry or an event was refused, in words. */
const WHY_NOT: Record<string, string> = {
  filter_failed: "the trigger's where conditions did not match",
  audience_missing: 'the user was not in the trigger audience',
  already_entered: 'an instance with this key is already active (or a once journey was entered before)',
  per_user_limit: 'the user had too many active instances',
  rate_limited: 'the user sent too many events per second',
  not_accepting_entries: 'the version was draining or archived',
  restart_limit: 'the hold had restarted too many times',
  payload_too_large: 'the payload was larger than the limit',
};

function describe(r: TimelineRecord): string {
  const at = r.stepId ? ` at ${r.stepId}` : '';
  switch (r.type) {
    case 'entered':
      return `entered${r.instanceKey && r.instanceKey !== '_' ? ` (key ${r.instanceKey})` : ''}`;
    case 'refused':
      return `refused: ${r.reason ?? 'no reason'}${r.reason && WHY_NOT[r.reason] ? ` — ${WHY_NOT[r.reason]}` : ''}`;
    case 'step':
      return `step${at}`;
    case 'branch':
      return `took ${r.branchId ?? 'a branch'}${at}`;
    case 'waiting': {
      const until = r.detail?.until ?? r.detail?.waitUntil;
      return `waiting${at}${until !== undefined ? ` until ${when(until as number)}` : ''}`;
    }
    case 'timer.fired':
      return `timer fired${at}`;
    case 'restarted':
      return `restarted${at}`;
    case 'sent':
      return `sent${at}`;
    case 'send.failed':
      return `send failed${at}: ${r.reason ?? ''}`;
    case 'exited':
      return `exited: ${r.reason ?? ''}`;
    case 'completed':
      return `completed${r.reason ? ` (${r.reason})` : ''}`;
    default:
      return `${r.type}${at}${r.reason ? ` (${r.reason})` : ''}`;
  }
}

/** A send's delivery id, destination and what became of it (delivered, dead-lettered, pending). */
function deliveryOf(r: TimelineRecord): string | null {
  const id = r.detail?.deliveryId;
  if (id === undefined) return null;
  let line = `delivery ${text(id)}`;
  if (r.detail?.destination !== undefined) line += ` to ${text(r.detail.destination)}`;
  const d = r.delivery;
  if (d?.outcome === 'delivered') {
    line += `: delivered (${d.status === 0 ? 'nats' : `http ${text(d.status)}`}) at ${when(d.at as number)}`;
  } else if (d?.outcome === 'dead-lettered') {
    line += `: dead-lettered (${text(d.reason)}) at ${when(d.at as string)}, DLQ record ${text(d.dlqSeq)}`;
  } else if (d?.outcome === 'pending') {
    line += ': not delivered yet (queued or retrying)';
  }
  return line;
}

export function UsersPage(props: { userId: string | null }) {
  const [query, setQuery] = useState(props.userId ?? '');
  const user = useLoad(
    () =>
      props.userId
        ? api<UserView>('GET', `/users/${encodeURIComponent(props.userId)}`)
        : Promise.resolve(null),
    [props.userId],
  );
  const u = user.data;
  return (
    <section aria-labelledby="users-title">
      <div class="page-head">
        <h1 id="users-title">Users</h1>
        <form
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            if (query.trim()) location.hash = `#/users/${encodeURIComponent(query.trim())}`;
          }}
        >
          <label for="user-id">User id</label>{' '}
          <input
            id="user-id"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
            placeholder="userId or anonymousId"
          />{' '}
          <button type="submit">Search</button>
        </form>
        {props.userId && (
          <button type="button" onClick={user.reload}>
            Refresh
          </button>
        )}
      </div>
      <ErrorLine error={user.error} />
      {props.userId && user.loading && !u && <Status>Loading {props.userId}…</Status>}
      {u && (
        <>
          <h2>Instances of {u.userKey}</h2>
          {u.instances.length === 0 ? (
            <p class="muted">No instance.</p>
          ) : (
            <table data-testid="instances">
              <thead>
                <tr>
                  <th scope="col">Journey</th>
                  <th scope="col">Instance key</th>
                  <th scope="col">Status</th>
                  <th scope="col">Current step</th>
                  <th scope="col">Deadline</th>
                </tr>
              </thead>
              <tbody>
                {u.instances.map((i) => (
                  <tr key={`${i.journeyId}/${i.instanceKey}`}>
                    <td>
                      <a href={`#/journeys/${encodeURIComponent(i.journeyId)}?v=${i.version}`}>
                        {i.journeyId} v{i.version}
                      </a>
                    </td>
                    <td>{i.instanceKey}</td>
                    <td>{i.status}</td>
                    <td>{i.stepId ?? '–'}</td>
                    <td>{when(i.waitUntil)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Timeline</h2>
          {u.timeline.length === 0 ? (
            <p class="muted">Nothing journaled for this user.</p>
          ) : (
            <ol class="timeline" data-testid="timeline">
              {u.timeline.map((r, i) => {
                const delivery = deliveryOf(r);
                return (
                  <li key={i} class={`t-${r.type.replace('.', '-')}`} data-type={r.type}>
                    <time
                      dateTime={new Date(typeof r.at === 'number' ? r.at : Date.parse(r.at)).toISOString()}
                    >
                      {when(r.at)}
                    </time>{' '}
                    <span class="muted">
                      {r.journeyId} v{r.version}
                    </span>{' '}
                    <strong>{describe(r)}</strong>
                    {delivery && <div class="delivery">{delivery}</div>}
                  </li>
                );
              })}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

// The console shell: the token gate, the navigation and a hash router over the pages.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, getToken, setToken, whenUnauthorized, type Whoami } from './api.js';
import { DraftPage } from './pages/draft.js';
import { JourneyPage } from './pages/journey.js';
import { JourneysPage } from './pages/journeys.js';
import { OperationsPage } from './pages/operations.js';
import { UsersPage } from './pages/users.js';
import { Session } from './session.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function TokenForm(props: { onToken: (t: string) => void; error: string | null }) {
  const [value, setValue] = useState('');
  return (
    <main id="main" class="token-gate">
      <h1>Cairn console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) props.onToken(value.trim());
        }}
      >
        <label for="token">Admin token</label>
        <p class="help" id="token-help">
          A token from CAIRN_ADMIN_TOKENS. It is kept in this tab only (sessionStorage) and sent with every
          call to the admin API.
        </p>
        <input
          id="token"
          type="password"
          autoComplete="off"
          aria-describedby="token-help"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit">Open the console</button>
        {props.error && (
          <p role="alert" class="error">
            {props.error}
          </p>
        )}
      </form>
    </main>
  );
}

const PAGES = [
  { href: '#/journeys', label: 'Journeys' },
  { href: '#/draft', label: 'Draft' },
  { href: '#/users', label: 'Users' },
  { href: '#/operations', label: 'Operations' },
];

function route(hash: string) {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'journeys' && parts[1]) return <JourneyPage id={parts[1]} version={params.get('v')} />;
  if (parts[0] === 'draft') return <DraftPage />;
  if (parts[0] === 'users') return <UsersPage userId={parts[1] ?? null} />;
  if (parts[0] === 'operations') return <OperationsPage />;
  return <JourneysPage />;
}

function App() {
  const hash = useHash();
  const [token, setTok] = useState<string | null>(getToken());
  const [who, setWho] = useState<Whoami | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () =>
      whenUnauthorized(() => {
        setToken(null);
        setTok(null);
        setError('The admin service refused the token (401). Enter a valid token.');
      }),
    [],
  );

  useEffect(() => {
    if (!token) return;
    // Who the token is, when the service says (read-only tokens see no write actions); a service
    // without the route leaves the role unknown and a refused write shows its 403.
    api<Whoami>('GET', '/whoami').then(setWho, (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) return;
      setWho(null);
    });
  }, [token]);

  if (!token) {
    return (
      <TokenForm
        error={error}
        onToken={(t) => {
          setToken(t);
          setError(null);
          setTok(t);
        }}
      />
    );
  }
  const current = PAGES.find((p) => (hash || '#/journeys').startsWith(p.href))?.href;
  return (
    <Session.Provider value={{ role: who?.role ?? null, name: who?.name ?? null }}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Cairn</span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((p) => (
              <li key={p.href}>
                <a href={p.href} aria-current={p.href === current ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" data-testid="who">
          {who ? `${who.name} (${who.role === 'write' ? 'read-write' : 'read-only'})` : 'token set'}
        </span>
        <button
          type="button"
          class="link"
          onClick={() => {
            setToken(null);
            setTok(null);
            setWho(null);
          }}
        >
          Forget token
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route(hash)}
      </main>
    </Session.Provider>
  );
}

render(<App />, document.getElementById('app')!);

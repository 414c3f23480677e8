import { useEffect, useState } from 'preact/hooks';
import {
  get,
  loadSession,
  saveSession,
  setUnauthenticatedHandler,
  signOut,
  type Session,
} from './api';
import { Shell } from './components/shell';
import { PAGES } from './pages/table';
import { SignInPage } from './pages/sign-in';
import { Link, ROUTES, links, matchRoute, navigate, useLocation } from './router';
import { SessionProvider } from './session-context';

/** The sign-in page, with `?next=` the page asked for (an in-app path only). */
function signInHref(): string {
  const back = location.pathname + location.search;
  return back.startsWith(links.signIn()) || back === links.workflows()
    ? links.signIn()
    : `${links.signIn()}?next=${encodeURIComponent(back)}`;
}

/** Where `?next=` may send the app after sign-in: a /console/ path, never another origin. */
function nextOf(search: URLSearchParams): string {
  const next = search.get('next');
  return next && next.startsWith('/console/') && !next.startsWith('//') && !next.includes('\\')
    ? next
    : links.workflows();
}

/**
 * The app: without a session only the sign-in page; with one, the shell and the page of the
 * route. A 401 from any call (expired or revoked session) lands back on sign-in, and after
 * signing in the console returns to the page that was asked for.
 */
export function App() {
  const loc = useLocation();
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const match = matchRoute(ROUTES, loc.pathname);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setSession(undefined);
      navigate(signInHref(), { replace: true });
    });
  }, []);

  // Refresh tenant and scopes once per load: a revoked key or expired session answers 401.
  useEffect(() => {
    if (!session) return;
    get<Session>('/v1/sessions/current')
      .then((s) => {
        const fresh = { ...session, tenant: s.tenant, scopes: s.scopes, expiresAt: s.expiresAt };
        saveSession(fresh);
        setSession(fresh);
      })
      .catch(() => undefined);
  }, [session?.session]);

  useEffect(() => {
    if (!session && match?.route !== 'signIn') navigate(signInHref(), { replace: true });
  }, [session, match?.route]);

  if (!session || match?.route === 'signIn') {
    return (
      <SignInPage
        onSignedIn={(s) => {
          setSession(s);
          navigate(nextOf(loc.search), { replace: true });
        }}
      />
    );
  }

  const Page = match ? PAGES[match.route as keyof typeof PAGES] : undefined;
  return (
    <SessionProvider session={session}>
      <Shell
        onSignOut={() => {
          void signOut().then(() => {
            setSession(undefined);
            navigate(links.signIn(), { replace: true });
          });
        }}
      >
        {Page && match ? (
          <Page key={loc.pathname} params={match.params} search={loc.search} />
        ) : (
          <section>
            <h1>Not found</h1>
            <p>
              No page at <code>{loc.pathname}</code>.{' '}
              <Link href={links.workflows()}>Workflows</Link>
            </p>
          </section>
        )}
      </Shell>
    </SessionProvider>
  );
}

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
      const back = location.pathname + location.search;
      navigate(
        links.signIn() +
          (back.startsWith(links.signIn()) ? '' : `?next=${encodeURIComponent(back)}`),
        {
          replace: true,
        },
      );
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
    if (!session && match?.route !== 'signIn') navigate(links.signIn(), { replace: true });
  }, [session, match?.route]);

  if (!session || match?.route === 'signIn') {
    return (
      <SignInPage
        onSignedIn={(s) => {
          setSession(s);
          const next = loc.search.get('next');
          navigate(
            next && next.startsWith('/console/') && !next.startsWith('//')
              ? next
              : links.workflows(),
            {
              replace: true,
            },
          );
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

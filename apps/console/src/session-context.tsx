import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { hasScope, type Scope, type Session } from './api';

export interface SessionView {
  session: Session;
  /** Whether the session's scopes allow it: controls that are not allowed are not rendered. */
  can: (scope: Scope) => boolean;
}

const SessionContext = createContext<SessionView | undefined>(undefined);

export function SessionProvider({
  session,
  children,
}: {
  session: Session;
  children: ComponentChildren;
}) {
  const view: SessionView = { session, can: (scope) => hasScope(session, scope) };
  return <SessionContext.Provider value={view}>{children}</SessionContext.Provider>;
}

/** The signed-in session of every page inside the shell. */
export function useSession(): SessionView {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside <SessionProvider>');
  return v;
}

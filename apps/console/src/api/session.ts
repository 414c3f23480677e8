import type { Scope, Session } from './types';

/**
 * The session lives in sessionStorage under `cb.session` (the tab's lifetime, never
 * localStorage): the `cbs_…` bearer plus the tenant and scopes it was answered with, so a reload
 * keeps the console signed in. The API key itself is never stored.
 */
export const SESSION_KEY = 'cb.session';

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (raw === null) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.session !== 'string' || typeof s.tenant !== 'string') return undefined;
    if (!Array.isArray(s.scopes)) return undefined;
    if (typeof s.expiresAt === 'string' && Date.parse(s.expiresAt) <= Date.now()) {
      clearSession();
      return undefined;
    }
    return s as Session;
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Whether the session's scopes allow `scope` (controls that are not allowed are not rendered). */
export function hasScope(session: Pick<Session, 'scopes'> | undefined, scope: Scope): boolean {
  return session !== undefined && session.scopes.includes(scope);
}

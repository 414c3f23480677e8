import { request } from './client';
import { clearSession, loadSession, saveSession } from './session';
import type { Session } from './types';

/** Trade an API key for a session (`POST /v1/sessions`, key as bearer) and keep the session. */
export async function signIn(apiKey: string): Promise<Session> {
  const { body } = await request<Session>('POST', '/v1/sessions', {
    authorization: `Bearer ${apiKey.trim()}`,
    keep401: true,
  });
  saveSession(body);
  return body;
}

/** End the session on the server (best effort: a dead one is already ended) and forget it. */
export async function signOut(): Promise<void> {
  if (loadSession() !== undefined) {
    await request('DELETE', '/v1/sessions/current', { keep401: true }).catch(() => undefined);
  }
  clearSession();
}

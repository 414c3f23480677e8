import { ApiProblem, asProblem, problemOf } from './problem';
import { clearSession, loadSession } from './session';

/**
 * The console's only way to the API: plain `fetch` to the same origin (the gateway that serves
 * the console), `Authorization: Bearer <session>`, JSON in and out. Every failure is thrown as an
 * ApiProblem; a 401 also ends the session and sends the app to the sign-in page (the
 * `onUnauthenticated` hook the app installs), except where a call asks to see it (sign-in).
 */

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send this Authorization instead of the session's (sign-in sends the API key). */
  authorization?: string;
  /** Let a 401 be thrown like any problem instead of ending the session. */
  keep401?: boolean;
  signal?: AbortSignal;
}

let onUnauthenticated: () => void = () => undefined;

/** Installed once by the app: what a 401 does (clear the session, go to sign-in). */
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

/** `/v1/workflows/{wf}/tokens/{tok}` with each parameter percent-encoded. */
export function apiPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`apiPath: no value for {${name}} in ${template}`);
    return encodeURIComponent(v);
  });
}

export function urlOf(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

/** The headers of an API request: the session's bearer unless the call names its own. */
export function authHeaders(authorization?: string): Record<string, string> {
  if (authorization !== undefined) return { authorization };
  const s = loadSession();
  return s ? { authorization: `Bearer ${s.session}` } : {};
}

/** Handle a 401 the way every page should: forget the session, show sign-in. */
export function unauthenticated(): void {
  clearSession();
  onUnauthenticated();
}

async function bodyOf(res: Response): Promise<unknown> {
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  if (text === '') return undefined;
  if (/json/i.test(type)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  return { detail: text.slice(0, 500) };
}

export async function request<T>(
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<{ body: T; headers: Headers; status: number }> {
  const headers: Record<string, string> = {
    accept: 'application/json, application/problem+json',
    ...authHeaders(opts.authorization),
    ...opts.headers,
  };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(urlOf(path, opts.query), {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    throw asProblem(err);
  }
  const body = await bodyOf(res).catch(() => undefined);
  if (!res.ok) {
    const problem = problemOf(res.status, res.statusText, body);
    if (res.status === 401 && !opts.keep401) unauthenticated();
    throw problem;
  }
  return { body: body as T, headers: res.headers, status: res.status };
}

/** GET a JSON resource. */
export async function get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  return (
    await request<T>('GET', path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) })
  ).body;
}

/** POST/PUT/PATCH/DELETE with an optional JSON body; the answer's body (undefined for 204). */
export async function send<T>(
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<T> {
  return (
    await request<T>(method, path, {
      ...(body !== undefined ? { body } : {}),
      ...(headers ? { headers } : {}),
    })
  ).body;
}

export { ApiProblem };

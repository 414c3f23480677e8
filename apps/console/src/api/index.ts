export { ApiProblem, asProblem, problemOf, type FailingPath } from './problem';
export {
  apiPath,
  authHeaders,
  get,
  request,
  send,
  setUnauthenticatedHandler,
  unauthenticated,
  urlOf,
  type Query,
  type RequestOptions,
} from './client';
export { SESSION_KEY, clearSession, hasScope, loadSession, saveSession } from './session';
export { signIn, signOut } from './sessions';
export type * from './types';

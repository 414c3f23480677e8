import type { GuardFailure } from './types';

/** One failing path of a problem: a validation error's `errors[]` or a guard's `failures[]`. */
export interface FailingPath {
  path: string;
  message: string;
}

/**
 * An API error as the console shows it: the problem's stable `code` and `detail`, and the failing
 * paths when there are any. Network failures and answers that are not problem+json become one
 * too (code `NETWORK_ERROR` / the status text), so every page has one kind of error to show.
 */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly failures: readonly FailingPath[] | undefined;
  /** How many failures the guard found when `failures` is only the first ones. */
  readonly failureCount: number | undefined;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    failures?: readonly FailingPath[];
    failureCount?: number;
  }) {
    super(`${init.code}: ${init.detail}`);
    this.name = 'ApiProblem';
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.failures = init.failures;
    this.failureCount = init.failureCount;
  }
}

const MAX_PATHS = 50;

function pathsOf(list: unknown): FailingPath[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: FailingPath[] = [];
  for (const item of list.slice(0, MAX_PATHS)) {
    if (item === null || typeof item !== 'object') continue;
    const { path, message } = item as Partial<GuardFailure>;
    out.push({
      path: typeof path === 'string' ? path : '',
      message: typeof message === 'string' ? message : '',
    });
  }
  return out;
}

/** The ApiProblem of an answer's parsed body (anything: the body is the server's, or a proxy's). */
export function problemOf(status: number, statusText: string, body: unknown): ApiProblem {
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const code = typeof b['code'] === 'string' ? b['code'] : `HTTP_${status}`;
  const detail =
    typeof b['detail'] === 'string'
      ? b['detail']
      : typeof b['title'] === 'string'
        ? b['title']
        : statusText || `the server answered ${status}`;
  const failures = pathsOf(b['failures']) ?? pathsOf(b['errors']);
  const failureCount = typeof b['failureCount'] === 'number' ? b['failureCount'] : undefined;
  return new ApiProblem({
    status,
    code,
    detail,
    ...(failures && failures.length > 0 ? { failures } : {}),
    ...(failureCount !== undefined ? { failureCount } : {}),
  });
}

/** Any thrown value as an ApiProblem (fetch's TypeError when the network fails, etc.). */
export function asProblem(err: unknown): ApiProblem {
  if (err instanceof ApiProblem) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ApiProblem({ status: 0, code: 'NETWORK_ERROR', detail });
}

import type { FastifyRequest } from 'fastify';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { ErrorCode } from '@cb/schemas';
import { ApiError } from '../api-error';

/** Turns a non-GraphQL error (Fastify's, NATS') into the coded error REST would answer. */
export type ToApiError = (error: Error, req: FastifyRequest | undefined) => ApiError;

/** Errors answered in one response (the rest are counted in the last one's extensions). */
const MAX_ERRORS = 20;

/** Codes of errors in the request itself (parse, validation, limits): nothing was executed. */
const REQUEST_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
]);

/**
 * One error as the client sees it: `message`, `locations`, `path`, and `extensions.code` with one
 * of our stable codes (libs/schemas errors table), the problem's members next to it
 * (GUARD_FAILED's `failures`, VALIDATION_ERROR's `errors`, …). Never a stack trace: an error we
 * did not make is INTERNAL_ERROR with a fixed message (and logged by the caller).
 */
export function formatError(
  error: GraphQLError,
  toApiError: ToApiError,
  req?: FastifyRequest,
): GraphQLFormattedError {
  const base: GraphQLFormattedError = {
    message: error.message,
    ...(error.locations ? { locations: error.locations } : {}),
    ...(error.path ? { path: error.path } : {}),
  };
  const original = error.originalError;
  if (original instanceof ApiError)
    return coded(base, original.message, original.code, original.details);
  const given = error.extensions?.code;
  if (typeof given === 'string' && /^[A-Z][A-Z_]*$/.test(given) && !given.startsWith('MER_ERR')) {
    return { ...base, extensions: { ...error.extensions, code: given } };
  }
  if (original === undefined || original === null || original instanceof GraphQLError) {
    // graphql-js' own: syntax errors, and validation (of the document, variables, arguments).
    const code: ErrorCode = error.message.startsWith('Syntax Error')
      ? 'GRAPHQL_PARSE_FAILED'
      : 'GRAPHQL_VALIDATION_FAILED';
    return coded(base, error.message, code, undefined);
  }
  const mercuriusCode = (original as { code?: unknown }).code;
  if (mercuriusCode === 'MER_ERR_GQL_QUERY_DEPTH') {
    return coded(base, original.message, 'QUERY_TOO_DEEP', undefined);
  }
  if (
    mercuriusCode === 'MER_ERR_METHOD_NOT_ALLOWED' ||
    mercuriusCode === 'MER_ERR_GQL_VALIDATION'
  ) {
    return coded(base, original.message, 'GRAPHQL_VALIDATION_FAILED', undefined);
  }
  if (mercuriusCode === 'MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND') {
    return coded(base, 'no query was sent', 'GRAPHQL_VALIDATION_FAILED', undefined);
  }
  const api = toApiError(original, req);
  return coded(base, api.message, api.code, api.details);
}

function coded(
  base: GraphQLFormattedError,
  message: string,
  code: ErrorCode,
  details: Record<string, unknown> | undefined,
): GraphQLFormattedError {
  const members = Object.fromEntries(
    Object.entries(details ?? {}).filter(([k]) => k !== 'code' && k !== 'status'),
  );
  return { ...base, message, extensions: { ...members, code } };
}

/** Mercurius wraps document errors (validation, depth) in one error holding them all. */
function flatten(errors: readonly GraphQLError[]): GraphQLError[] {
  const out: GraphQLError[] = [];
  for (const error of errors) {
    const inner = (error.originalError as { errors?: unknown } | undefined)?.errors;
    if (Array.isArray(inner)) {
      for (const e of inner) out.push(e instanceof GraphQLError ? e : toGraphQLError(e as Error));
    } else out.push(error);
  }
  return out;
}

function toGraphQLError(error: Error): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError(error.message, { originalError: error });
}

/**
 * The HTTP status of an answer with errors: 200 once the operation executed (its errors are
 * field errors, GraphQL over HTTP with application/json); 400 for a document refused before
 * execution; the problem's status for an error of the request itself (401, 413, 415, 503, …).
 */
export function statusOf(executed: boolean, errors: readonly GraphQLFormattedError[]): number {
  if (executed) return 200;
  const codes = errors.map((e) => String(e.extensions?.code ?? ''));
  if (codes.length > 0 && codes.every((c) => REQUEST_CODES.has(c))) return 400;
  const first = errors[0]?.extensions?.code;
  if (errors.length === 1 && typeof first === 'string' && !REQUEST_CODES.has(first)) {
    return statusOfCode(first);
  }
  return 400;
}

function statusOfCode(code: string): number {
  try {
    return new ApiError(code as ErrorCode, '').status;
  } catch {
    return 500;
  }
}

interface Logged {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Mercurius' `errorFormatter`: every error coded, at most MAX_ERRORS, the status as statusOf says. */
export function errorFormatter(toApiError: ToApiError) {
  return (
    execution: ExecutionResult,
    ctx: { reply?: { log: Logged; request?: FastifyRequest }; app?: { log: Logged } } | undefined,
  ): { statusCode: number; response: ExecutionResult } => {
    const log = ctx?.reply?.log ?? ctx?.app?.log;
    const all = flatten(execution.errors ?? []);
    const formatted = all.slice(0, MAX_ERRORS).map((error) => {
      const f = formatError(error, toApiError, ctx?.reply?.request);
      if (f.extensions?.code === 'INTERNAL_ERROR')
        log?.error({ err: error.originalError ?? error }, 'graphql: unexpected error');
      return f;
    });
    if (all.length > MAX_ERRORS) {
      const last = formatted[formatted.length - 1]!;
      formatted[formatted.length - 1] = {
        ...last,
        extensions: { ...last.extensions, errorCount: all.length },
      };
    }
    const executed = 'data' in execution && execution.data !== undefined;
    return {
      statusCode: statusOf(executed, formatted),
      // Formatted errors are plain objects: the response serialises exactly them.
      response: {
        data: execution.data ?? null,
        errors: formatted as unknown as GraphQLError[],
      },
    };
  };
}

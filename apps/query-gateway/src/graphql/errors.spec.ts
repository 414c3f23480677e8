import { GraphQLError } from 'graphql';
import { ApiError } from '../api-error';
import { errorFormatter, formatError, statusOf } from './errors';

const internal = () =>
  new ApiError('INTERNAL_ERROR', 'an unexpected error occurred; it was logged');

describe('GraphQL error mapping', () => {
  it('keeps an ApiError code and its members (GUARD_FAILED failures), never a stack', () => {
    const api = new ApiError('GUARD_FAILED', 'guard failed', {
      transition: 't',
      failures: [{ path: '/data/ok', message: 'must be true', keyword: 'const', schemaPath: '#' }],
    });
    const f = formatError(
      new GraphQLError(api.message, { originalError: api, path: ['fire'] }),
      internal,
    );
    expect(f).toEqual({
      message: 'guard failed',
      path: ['fire'],
      extensions: { code: 'GUARD_FAILED', transition: 't', failures: api.details!.failures },
    });
    expect(JSON.stringify(f)).not.toContain('stack');
  });

  it('codes graphql-js errors and unknown errors', () => {
    expect(
      formatError(new GraphQLError('Syntax Error: Expected Name'), internal).extensions?.code,
    ).toBe('GRAPHQL_PARSE_FAILED');
    expect(formatError(new GraphQLError('Cannot query field "x"'), internal).extensions?.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
    const bug = formatError(
      new GraphQLError('secret detail', { originalError: new TypeError('secret detail') }),
      internal,
    );
    expect(bug).toEqual({
      message: 'an unexpected error occurred; it was logged',
      extensions: { code: 'INTERNAL_ERROR' },
    });
  });

  it('answers 200 once executed, 400 for a refused document, the status of a request error', () => {
    const coded = (code: string) => ({ message: '', extensions: { code } });
    expect(statusOf(true, [coded('TOKEN_NOT_FOUND')])).toBe(200);
    expect(statusOf(false, [coded('QUERY_TOO_DEEP')])).toBe(400);
    expect(statusOf(false, [coded('PAYLOAD_TOO_LARGE')])).toBe(413);
  });

  it('unwraps the errors mercurius wraps and bounds their number', () => {
    const wrapped = Object.assign(new Error('validation'), {
      errors: Array.from({ length: 30 }, (_, i) => new GraphQLError(`Unknown field ${i}`)),
    });
    const { statusCode, response } = errorFormatter(internal)(
      { errors: [new GraphQLError('validation', { originalError: wrapped })] },
      undefined,
    );
    expect(statusCode).toBe(400);
    expect(response.errors).toHaveLength(20);
    expect(response.errors![19]!.extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      errorCount: 30,
    });
  });
});

import { DomainError, validationError } from './domain-error';

describe('DomainError', () => {
  it('carries a code, details and a cause', () => {
    const cause = new Error('root');
    const error = new DomainError('TOKEN_NOT_FOUND', 'gone', { tokenId: 't1' }, { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'DomainError', code: 'TOKEN_NOT_FOUND', message: 'gone' });
    expect(error.details).toEqual({ tokenId: 't1' });
    expect(error.cause).toBe(cause);
  });

  it('has no details key when none are given', () => {
    expect(Object.keys(new DomainError('CONFLICT', 'x'))).not.toContain('details');
  });

  it('builds a VALIDATION_ERROR with every field error', () => {
    const error = validationError('bad', [{ path: '/a', message: 'm' }]);
    expect(error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { errors: [{ path: '/a', message: 'm' }] },
    });
  });
});

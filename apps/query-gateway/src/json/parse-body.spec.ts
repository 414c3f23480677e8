import { ApiError } from '../api-error';
import { parseJsonBody } from './parse-body';

function refusal(text: string): { code: string; message: string; errors?: unknown } {
  try {
    parseJsonBody(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    return { code: e.code, message: e.message, errors: e.details?.errors };
  }
  throw new Error(`${text} was accepted`);
}

describe('parseJsonBody', () => {
  it('parses ordinary bodies', () => {
    expect(parseJsonBody('{"data":{"n":1.5,"s":"1e400"},"metadata":{}}')).toEqual({
      data: { n: 1.5, s: '1e400' },
      metadata: {},
    });
  });

  it('refuses empty, malformed and too deep bodies with VALIDATION_ERROR', () => {
    expect(refusal('').code).toBe('VALIDATION_ERROR');
    expect(refusal('{"a":').message).toBe('the body is not valid JSON');
    expect(refusal(`{"data":${'['.repeat(40)}${']'.repeat(40)}}`).message).toMatch(/nest at most/);
  });

  it('refuses a number that would change with NUMBER_OUT_OF_RANGE and its path', () => {
    const r = refusal('{"data":{"keep":1e400,"n":[1,9007199254740993]}}');
    expect(r.code).toBe('NUMBER_OUT_OF_RANGE');
    expect(r.errors).toEqual([
      { path: 'body/data/keep', message: expect.stringMatching(/^1e400 is too large/) },
      { path: 'body/data/n/1', message: expect.stringMatching(/send it as a string/) },
    ]);
    expect(r.message).toMatch(/^body\/data\/keep: 1e400 is too large.*\(and 1 more\)$/);
  });

  it('refuses __proto__ and constructor.prototype keys with their paths, escaped spellings too', () => {
    const r = refusal(
      '{"data":{"a":[{"__proto__":{"x":1}}]},"metadata":{"constructor":{"prototype":{}}}}',
    );
    expect(r.code).toBe('VALIDATION_ERROR');
    expect(r.errors).toEqual([
      {
        path: 'body/data/a/0/__proto__',
        message: 'key __proto__ is not allowed: it names an object prototype',
      },
      {
        path: 'body/metadata/constructor/prototype',
        message: 'key constructor.prototype is not allowed: it names an object prototype',
      },
    ]);
    expect(refusal('{"\\u005f_proto__":1}').errors).toEqual([
      expect.objectContaining({ path: 'body/__proto__' }),
    ]);
    // A constructor key alone is just data.
    expect(parseJsonBody('{"data":{"constructor":"Bob","prototype":1}}')).toEqual({
      data: { constructor: 'Bob', prototype: 1 },
    });
  });
});

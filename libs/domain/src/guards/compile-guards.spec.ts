import { type GuardSchema, type TransitionDefinition } from '@cb/schemas';
import { fixture } from '../testing/fixtures';
import { compileGuards, evaluateOne } from './compile-guards';
import { MAX_GUARD_FAILURES } from './guard-failures';
import { type GuardOutcome, type GuardVerdict } from './guard-verdict';
import { MAX_UNIQUE_ITEMS } from './unique-items';

const article = compileGuards(fixture('article_publishing').transitions);
const complete = { content: 'text', title: 'Title' };

function failuresOf(
  verdict: GuardVerdict,
): Array<Extract<GuardOutcome, { status: 'failed' }>['failures'][number]> {
  if (verdict.status !== 'failed') throw new Error(`expected a failure, got ${verdict.status}`);
  return verdict.failures;
}
const paths = (verdict: GuardVerdict) => failuresOf(verdict).map((f) => f.path);

/** One transition `t` with this guard, compiled; `check` evaluates it. */
function withGuard(guard: GuardSchema) {
  const transitions: TransitionDefinition[] = [{ id: 't', from: ['a'], to: 'b', guard }];
  const compiled = compileGuards(transitions);
  return {
    compiled,
    check: (data: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
      evaluateOne(compiled, 't', { data, metadata }),
  };
}

describe('compiled guards with the article_publishing fixture', () => {
  it('given word_count 50, when submitting, then it fails at /data/word_count', () => {
    const verdict = evaluateOne(article, 'submit', {
      data: { ...complete, word_count: 50 },
      metadata: {},
    });
    expect(verdict).toEqual({
      status: 'failed',
      failureCount: 1,
      failures: [
        {
          path: '/data/word_count',
          message: 'must be > 100',
          keyword: 'exclusiveMinimum',
          schemaPath: '#/properties/data/properties/word_count/exclusiveMinimum',
        },
      ],
    });
  });

  it('given word_count 150 and all fields, when submitting, then it passes', () => {
    expect(
      evaluateOne(article, 'submit', { data: { ...complete, word_count: 150 }, metadata: {} }),
    ).toEqual({ status: 'passed' });
  });

  it('given no data, when submitting, then every missing field is a path of its own', () => {
    const failures = failuresOf(evaluateOne(article, 'submit', { data: {}, metadata: {} }));
    expect(failures).toEqual([
      expect.objectContaining({ path: '/data/content', keyword: 'required' }),
      expect.objectContaining({ path: '/data/title', keyword: 'required' }),
      expect.objectContaining({ path: '/data/word_count', keyword: 'required' }),
    ]);
    expect(failures[0]?.message).toBe("must have required property 'content'");
  });

  it('given metadata.emergency = true, when publishing, then the emergency branch passes', () => {
    expect(
      evaluateOne(article, 'publish', { data: {}, metadata: { emergency: true } }).status,
    ).toBe('passed');
  });

  it('given neither branch, when publishing, then failures come from both branches and anyOf', () => {
    const failures = failuresOf(
      evaluateOne(article, 'publish', {
        data: { ...complete, document_type: 'memo', word_count: 900 },
        metadata: { reviewer: 'ana', status: 'approved', emergency: false },
      }),
    );
    expect(failures).toEqual([
      expect.objectContaining({
        path: '/data/document_type',
        keyword: 'const',
        schemaPath: '#/anyOf/0/properties/data/properties/document_type/const',
      }),
      expect.objectContaining({
        path: '/metadata/emergency',
        keyword: 'const',
        schemaPath: '#/anyOf/1/properties/metadata/properties/emergency/const',
      }),
      {
        path: '',
        message: 'must match a schema in anyOf',
        keyword: 'anyOf',
        schemaPath: '#/anyOf',
      },
    ]);
  });

  it('passes a transition without a guard', () => {
    expect(evaluateOne(article, 'revise', { data: {}, metadata: {} })).toEqual({
      status: 'passed',
    });
  });
});

describe('guard semantics', () => {
  it('does not let inherited properties satisfy "required"', () => {
    const { check } = withGuard({
      properties: { data: { required: ['constructor', 'toString'] } },
    });
    expect(paths(check({}))).toEqual(['/data/constructor', '/data/toString']);
  });

  it('points at unexpected properties and escapes JSON Pointer characters', () => {
    const { check } = withGuard({
      properties: {
        data: { required: ['a/b~c'], additionalProperties: false, properties: { 'a/b~c': {} } },
      },
    });
    expect(paths(check({ extra: 1 }))).toEqual(['/data/a~1b~0c', '/data/extra']);
  });

  it('never modifies the token (no defaults, no coercion)', () => {
    const { check } = withGuard({
      properties: {
        data: { properties: { n: { type: 'number', default: 1 }, s: { type: 'string' } } },
      },
    });
    const data = { s: 5 };
    expect(paths(check(data))).toEqual(['/data/s']);
    expect(data).toEqual({ s: 5 });
  });

  it('supports formats from ajv-formats and boolean guards', () => {
    const { check } = withGuard({
      properties: { data: { properties: { due: { format: 'date' } } } },
    });
    expect(paths(check({ due: '2024-02-30x' }))).toEqual(['/data/due']);
    expect(check({ due: '2024-02-28' }).status).toBe('passed');
    expect(failuresOf(withGuard(false).check({}))).toEqual([
      expect.objectContaining({ path: '', keyword: 'false schema' }),
    ]);
  });

  it('reports the first 20 failures and how many there were', () => {
    const { check } = withGuard({
      properties: { data: { properties: { xs: { items: { type: 'string' } } } } },
    });
    const verdict = check({ xs: Array.from({ length: 500 }, (_, i) => i) });
    expect(verdict).toMatchObject({ status: 'failed', failureCount: 500 });
    expect(failuresOf(verdict)).toHaveLength(MAX_GUARD_FAILURES);
    expect(failuresOf(verdict)[0]).toMatchObject({ path: '/data/xs/0', keyword: 'type' });
  });
});

describe('issue 10, measured 1: guards have unbounded cost', () => {
  const reDoS = {
    properties: { data: { properties: { s: { type: 'string', pattern: '^(a+)+$' } } } },
  };

  it('matches `^(a+)+$` against 36 × a then ! in linear time (RE2), not 30 minutes', () => {
    const { check } = withGuard(reDoS);
    const started = performance.now();
    expect(paths(check({ s: `${'a'.repeat(36)}!` }))).toEqual(['/data/s']);
    expect(check({ s: 'a'.repeat(36) }).status).toBe('passed');
    // A bound on the mechanism, not a benchmark: backtracking takes ~30 min here.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('runs patternProperties and propertyNames on RE2 too', () => {
    const long = `${'a'.repeat(40)}!`;
    const pp = withGuard({
      properties: { data: { patternProperties: { '^(a+)+$': { type: 'number' } } } },
    });
    const pn = withGuard({ properties: { data: { propertyNames: { pattern: '^(a+)+$' } } } });
    const started = performance.now();
    expect(pp.check({ [long]: 'x', aaaa: 'y' })).toMatchObject({
      status: 'failed',
      failureCount: 1,
    });
    expect(failuresOf(pn.check({ [long]: 1 })).map((f) => f.keyword)).toEqual([
      'pattern',
      'propertyNames',
    ]);
    expect(pn.check({ aaa: 1 }).status).toBe('passed');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses a pattern RE2 cannot express with GUARD_PATTERN_UNSUPPORTED', () => {
    for (const pattern of ['(?=a)b', '(a)\\1', 'a(?!b)']) {
      const { compiled } = withGuard({ properties: { data: { properties: { s: { pattern } } } } });
      expect(compiled.errors).toEqual([
        expect.objectContaining({
          path: '/transitions/0/guard',
          code: 'GUARD_PATTERN_UNSUPPORTED',
        }),
      ]);
      expect(evaluateOne(compiled, 't', { data: {}, metadata: {} }).status).toBe('too-expensive');
    }
  });

  it('checks uniqueItems over 20,000 objects in linear time and caps what it examines', () => {
    const { check } = withGuard({
      properties: { data: { properties: { xs: { uniqueItems: true } } } },
    });
    const distinct = Array.from({ length: MAX_UNIQUE_ITEMS }, (_, i) => ({
      id: i,
      tags: ['a', i],
    }));
    const started = performance.now();
    expect(check({ xs: distinct }).status).toBe('passed');
    const repeated = [...distinct.slice(0, 100), { tags: ['a', 7], id: 7 }];
    expect(failuresOf(check({ xs: repeated }))[0]).toMatchObject({
      path: '/data/xs',
      keyword: 'uniqueItems',
      message: 'must NOT have duplicate items (items ## 7 and 100 are identical)',
    });
    const tooMany = Array.from({ length: 2 * MAX_UNIQUE_ITEMS }, (_, i) => ({ id: i }));
    expect(failuresOf(check({ xs: tooMany }))[0]?.message).toMatch(/more than 10000 items/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses a guard that breaks a definition-time limit before compiling it', () => {
    const { compiled } = withGuard({ $ref: '#' });
    expect(compiled.errors).toEqual([
      expect.objectContaining({ path: '/transitions/0/guard/$ref', code: 'GUARD_REF_CYCLE' }),
    ]);
    expect(evaluateOne(compiled, 't', { data: {}, metadata: {} })).toMatchObject({
      status: 'too-expensive',
      message: expect.stringMatching(/cannot be evaluated/),
    });
  });
});

import { DomainError } from '../errors';
import { compiledFixture, FIXTURES, fixture, type FixtureName, stored } from '../testing/fixtures';
import { compileWorkflow } from './compiled-workflow';

const article = compiledFixture('article_publishing');
const complete = { content: 'text', title: 'Title' };
const paths = (failures: Array<{ path: string }>) => failures.map((f) => f.path);

describe('compileWorkflow', () => {
  it.each(Object.keys(FIXTURES) as FixtureName[])('compiles the %s fixture', (name) => {
    const workflow = compiledFixture(name);
    expect(workflow.definition.id).toBe(name);
    expect(workflow.analysis).toEqual({ unreachablePlaces: [], deadEndPlaces: [] });
  });

  it('indexes transitions, places and final places', () => {
    const order = compiledFixture('order_processing');
    expect(order.transition('cancel')?.from).toEqual(['cart', 'payment_pending']);
    expect(order.transition('teleport')).toBeUndefined();
    expect(order.hasPlace('paid')).toBe(true);
    expect(order.hasPlace('nowhere')).toBe(false);
    expect(order.isFinal('delivered')).toBe(true);
    expect(order.isFinal('cancelled')).toBe(true);
    expect(order.isFinal('paid')).toBe(false);
  });

  it('throws VALIDATION_ERROR when a stored guard does not compile', () => {
    const def = stored(fixture('document_review'));
    def.transitions[1] = { ...def.transitions[1]!, guard: { tpye: 'object' } };
    let thrown: unknown;
    try {
      compileWorkflow(def);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { errors: [{ path: '/transitions/1/guard' }] },
    });
  });
});

describe('checkGuard with the article_publishing fixture', () => {
  it('given word_count 50, when submitting, then it fails at /data/word_count', () => {
    const failures = article.checkGuard('submit', {
      data: { ...complete, word_count: 50 },
      metadata: {},
    });
    expect(failures).toEqual([
      {
        path: '/data/word_count',
        message: 'must be > 100',
        keyword: 'exclusiveMinimum',
        schemaPath: '#/properties/data/properties/word_count/exclusiveMinimum',
      },
    ]);
  });

  it('given word_count 150 and all fields, when submitting, then it passes', () => {
    expect(
      article.checkGuard('submit', { data: { ...complete, word_count: 150 }, metadata: {} }),
    ).toEqual([]);
  });

  it('given no data, when submitting, then every missing field is a path of its own', () => {
    const failures = article.checkGuard('submit', { data: {}, metadata: {} });
    expect(failures).toEqual([
      expect.objectContaining({ path: '/data/content', keyword: 'required' }),
      expect.objectContaining({ path: '/data/title', keyword: 'required' }),
      expect.objectContaining({ path: '/data/word_count', keyword: 'required' }),
    ]);
    expect(failures[0]?.message).toBe("must have required property 'content'");
  });

  it('given metadata.emergency = true, when publishing, then the emergency branch passes', () => {
    expect(article.checkGuard('publish', { data: {}, metadata: { emergency: true } })).toEqual([]);
  });

  it('given a complete approved long article, when publishing, then the first branch passes', () => {
    const data = { ...complete, document_type: 'article', word_count: 900 };
    const metadata = { reviewer: 'ana', status: 'approved' };
    expect(article.checkGuard('publish', { data, metadata })).toEqual([]);
  });

  it('given neither branch, when publishing, then failures come from both branches and anyOf', () => {
    const failures = article.checkGuard('publish', {
      data: { ...complete, document_type: 'memo', word_count: 900 },
      metadata: { reviewer: 'ana', status: 'approved', emergency: false },
    });
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

  it('given empty data and metadata, when publishing, then every missing field of both branches is listed', () => {
    expect(paths(article.checkGuard('publish', { data: {}, metadata: {} }))).toEqual([
      '/data/content',
      '/data/title',
      '/data/document_type',
      '/data/word_count',
      '/metadata/reviewer',
      '/metadata/status',
      '/metadata/emergency',
      '',
    ]);
  });

  it('returns [] for a transition without a guard', () => {
    expect(article.checkGuard('revise', { data: {}, metadata: {} })).toEqual([]);
  });

  it('throws TRANSITION_NOT_ENABLED for an unknown transition rather than passing', () => {
    expect(() => article.checkGuard('nope', { data: {}, metadata: {} })).toThrow(
      expect.objectContaining({ code: 'TRANSITION_NOT_ENABLED' }),
    );
  });
});

describe('guard semantics', () => {
  const withGuard = (guard: Record<string, unknown> | boolean) => {
    const def = stored(fixture('document_review'));
    def.transitions[0] = { ...def.transitions[0]!, guard };
    return compileWorkflow(def);
  };

  it('does not let inherited properties satisfy "required"', () => {
    const wf = withGuard({ properties: { data: { required: ['constructor', 'toString'] } } });
    expect(paths(wf.checkGuard('submit', { data: {}, metadata: {} }))).toEqual([
      '/data/constructor',
      '/data/toString',
    ]);
  });

  it('points at unexpected properties and escapes JSON Pointer characters', () => {
    const wf = withGuard({
      properties: {
        data: { required: ['a/b~c'], additionalProperties: false, properties: { 'a/b~c': {} } },
      },
    });
    expect(paths(wf.checkGuard('submit', { data: { extra: 1 }, metadata: {} }))).toEqual([
      '/data/a~1b~0c',
      '/data/extra',
    ]);
  });

  it('never modifies the token (no defaults, no coercion)', () => {
    const wf = withGuard({
      properties: {
        data: { properties: { n: { type: 'number', default: 1 }, s: { type: 'string' } } },
      },
    });
    const input = { data: { s: 5 }, metadata: {} };
    expect(paths(wf.checkGuard('submit', input))).toEqual(['/data/s']);
    expect(input).toEqual({ data: { s: 5 }, metadata: {} });
  });

  it('supports formats from ajv-formats and boolean guards', () => {
    const wf = withGuard({ properties: { data: { properties: { due: { format: 'date' } } } } });
    expect(wf.checkGuard('submit', { data: { due: '2024-02-30x' }, metadata: {} })).toHaveLength(1);
    expect(wf.checkGuard('submit', { data: { due: '2024-02-28' }, metadata: {} })).toEqual([]);
    expect(withGuard(false).checkGuard('submit', { data: {}, metadata: {} })).toEqual([
      expect.objectContaining({ path: '', keyword: 'false schema' }),
    ]);
  });
});

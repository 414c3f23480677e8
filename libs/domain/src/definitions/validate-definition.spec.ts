import { MAX_JSON_DEPTH, type WorkflowDefinitionInput } from '@cb/schemas';
import { compileGuards } from '../guards';
import { FIXTURES, fixture, type FixtureName } from '../testing/fixtures';
import { validateDefinition } from './validate-definition';

function errorsOf(
  input: WorkflowDefinitionInput,
  code = 'VALIDATION_ERROR',
): Array<{ path: string; message: string; code?: string }> {
  const error = validateDefinition(input);
  expect(error?.code).toBe(code);
  return (error?.details?.['errors'] ?? []) as Array<{ path: string; message: string }>;
}

function deepGuard(levels: number): Record<string, unknown> {
  let guard: Record<string, unknown> = { type: 'object' };
  for (let i = 0; i < levels; i++) guard = { properties: { a: guard } };
  return guard;
}

const minimal = (): WorkflowDefinitionInput => ({
  id: 'wf',
  name: 'Workflow',
  places: ['a', 'b'],
  initialPlace: 'a',
  transitions: [{ id: 'go', from: ['a'], to: 'b' }],
});

describe('validateDefinition', () => {
  it.each(Object.keys(FIXTURES) as FixtureName[])('accepts the %s fixture', (name) => {
    expect(validateDefinition(fixture(name))).toBeNull();
  });

  it('reports every semantic problem in one VALIDATION_ERROR, with JSON Pointer paths', () => {
    const input: WorkflowDefinitionInput = {
      id: 'broken',
      name: 'Broken',
      places: ['a', 'b', 'a'],
      initialPlace: 'nowhere',
      finalPlaces: ['b', 'gone', 'b'],
      transitions: [
        { id: 'go', from: ['a'], to: 'b' },
        { id: 'ok', from: ['b'], to: 'a' },
        { id: 'go', from: ['missing', 'a', 'a'], to: 'void' },
        { id: 'cycle', from: ['a'], to: 'b', guard: { allOf: [{ $ref: '#' }] } },
      ],
    };
    expect(errorsOf(input)).toEqual([
      { path: '/places/2', message: 'duplicate place "a" (first at /places/0)' },
      { path: '/initialPlace', message: 'initial place "nowhere" is not a declared place' },
      { path: '/finalPlaces/1', message: 'final place "gone" is not a declared place' },
      { path: '/finalPlaces/2', message: 'duplicate final place "b" (first at /finalPlaces/0)' },
      {
        path: '/transitions/2/id',
        message: 'duplicate transition id "go" (first at /transitions/0/id)',
      },
      { path: '/transitions/2/from/0', message: 'source place "missing" is not a declared place' },
      {
        path: '/transitions/2/from/2',
        message: 'duplicate source place "a" (first at /transitions/2/from/1)',
      },
      { path: '/transitions/2/to', message: 'target place "void" is not a declared place' },
      {
        path: '/transitions/3/guard/allOf/0/$ref',
        code: 'GUARD_REF_CYCLE',
        message: expect.stringContaining('recurse forever') as string,
      },
    ]);
  });

  it('checks search attributes: metadata or data keys, no repeats, at most 16', () => {
    expect(
      validateDefinition({ ...minimal(), searchAttributes: ['metadata.region', 'data.customer'] }),
    ).toBeNull();
    expect(
      errorsOf({ ...minimal(), searchAttributes: ['metadata.region', 'metadata.region'] }),
    ).toEqual([
      {
        path: '/searchAttributes/1',
        message: 'duplicate search attribute "metadata.region" (first at /searchAttributes/0)',
      },
    ]);
    for (const bad of ['region', 'state.place', 'data.a.b', 'data.', `data.${'x'.repeat(65)}`]) {
      expect(errorsOf({ ...minimal(), searchAttributes: [bad] })[0]?.path).toBe(
        '/searchAttributes/0',
      );
    }
    const many = Array.from({ length: 17 }, (_, i) => `data.k${i}`);
    expect(errorsOf({ ...minimal(), searchAttributes: many })[0]?.path).toBe('/searchAttributes');
  });

  it('names the number of problems in the message', () => {
    const input = { ...minimal(), initialPlace: 'x' };
    expect(validateDefinition(input)?.message).toBe(
      'workflow definition "wf" is invalid: 1 problem',
    );
  });

  it.each([
    ['a remote $ref', { $ref: 'https://example.com/guard.json' }, 'GUARD_REF_UNSUPPORTED', '/$ref'],
    ['10,000 levels of nesting', deepGuard(10_000), 'GUARD_TOO_DEEP', ''],
    ['a $ref cycle', { $ref: '#' }, 'GUARD_REF_CYCLE', '/$ref'],
  ])('rejects a guard with %s with its own code', (_what, guard, code, pointer) => {
    const input = minimal();
    input.transitions[0] = { ...input.transitions[0]!, guard };
    const errors = errorsOf(input, code);
    expect(errors).toEqual([
      expect.objectContaining({ path: `/transitions/0/guard${pointer}`, code }),
    ]);
  });

  // Compiling is checked by compileGuards (in the guard pool, off the decider's thread).
  it.each([
    ['an unknown keyword', { type: 'object', requird: ['data'] }, 'unknown keyword'],
    ['an invalid keyword value', { type: 'strng' }, 'schema is invalid'],
    ['an unknown format', { properties: { data: { format: 'colour' } } }, 'unknown format'],
    ['an async schema', { $async: true, type: 'object' }, 'async guards'],
    [
      "another draft's meta-schema",
      { $schema: 'http://json-schema.org/draft-07/schema#' },
      'no schema',
    ],
  ])('leaves a guard with %s to compileGuards, which rejects it', (_what, guard, reason) => {
    const input = minimal();
    input.transitions[0] = { ...input.transitions[0]!, guard };
    expect(validateDefinition(input)).toBeNull();
    const { errors } = compileGuards(input.transitions);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe('/transitions/0/guard');
    expect(errors[0]?.message).toContain(reason);
  });

  it('accepts a guard reaching the deepest allowed data', () => {
    const input = minimal();
    input.transitions[0] = { ...input.transitions[0]!, guard: deepGuard(MAX_JSON_DEPTH + 1) };
    expect(validateDefinition(input)).toBeNull();
  });

  it('accepts boolean guards and local $refs', () => {
    const input = minimal();
    input.transitions = [
      { id: 'always', from: ['a'], to: 'b', guard: true },
      { id: 'never', from: ['a'], to: 'b', guard: false },
      {
        id: 'ref',
        from: ['a'],
        to: 'b',
        guard: {
          $defs: { obj: { type: 'object' } },
          properties: { data: { $ref: '#/$defs/obj' } },
        },
      },
    ];
    expect(validateDefinition(input)).toBeNull();
  });

  it('reports the shape problems when the input is not a definition at all', () => {
    const input = {
      ...minimal(),
      id: 'has.dot',
      transitions: undefined,
    } as unknown as WorkflowDefinitionInput;
    const paths = errorsOf(input).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/id', '/transitions']));
  });

  it('accepts a structurally valid definition with warnings (analysis is not validation)', () => {
    const input = { ...minimal(), places: ['a', 'b', 'island'] };
    expect(validateDefinition(input)).toBeNull();
  });

  describe('timed transitions', () => {
    const timed = (...transitions: WorkflowDefinitionInput['transitions']) => ({
      ...minimal(),
      transitions,
    });

    it('accepts `after` durations from 1 s to 10 years and `at` pointers below data or metadata', () => {
      expect(
        validateDefinition(
          timed(
            { id: 'soon', from: ['a'], to: 'b', after: 'PT1S' },
            { id: 'later', from: ['a'], to: 'b', after: 'P10Y' },
            { id: 'monthly', from: ['a'], to: 'b', after: 'P1M', guard: { type: 'object' } },
            { id: 'publish', from: ['a'], to: 'b', at: '/data/publishAt' },
            { id: 'deadline', from: ['a'], to: 'b', at: '/metadata/sla/due' },
            { id: 'nth', from: ['a'], to: 'b', at: '/data/dates/0' },
          ),
        ),
      ).toBeNull();
    });

    it('reports bad durations and pointers at their paths, in order with every other problem', () => {
      expect(
        errorsOf(
          timed(
            { id: 'ok', from: ['a'], to: 'b', after: 'PT48H' },
            { id: 'half', from: ['a'], to: 'b', after: 'PT0.5S' },
            { id: 'long', from: ['a'], to: 'b', after: 'P11Y' },
            { id: 'junk', from: ['a'], to: 'b', after: '48 hours' },
            { id: 'root', from: ['a'], to: 'b', at: '/data' },
            { id: 'other', from: ['a'], to: 'b', at: '/state/publishAt' },
            { id: 'escape', from: ['a'], to: 'b', at: '/data/a~2b' },
            { id: 'both', from: ['a'], to: 'void', after: 'PT1H', at: '/data/when' },
          ),
        ),
      ).toEqual([
        {
          path: '/transitions/1/after',
          message: '"PT0.5S" is shorter than the minimum of 1 second',
        },
        { path: '/transitions/2/after', message: '"P11Y" is longer than the maximum of 10 years' },
        {
          path: '/transitions/3/after',
          message: '"48 hours" is not an ISO 8601 duration PnYnMnDTnHnMnS or PnW (e.g. "PT48H")',
        },
        {
          path: '/transitions/4/at',
          message:
            '"/data" is not a JSON Pointer starting with /data/ or /metadata/ (e.g. "/data/publishAt")',
        },
        {
          path: '/transitions/5/at',
          message:
            '"/state/publishAt" is not a JSON Pointer starting with /data/ or /metadata/ (e.g. "/data/publishAt")',
        },
        {
          path: '/transitions/6/at',
          message:
            '"/data/a~2b" is not a JSON Pointer starting with /data/ or /metadata/ (e.g. "/data/publishAt")',
        },
        { path: '/transitions/7/to', message: 'target place "void" is not a declared place' },
        { path: '/transitions/7', message: 'a timed transition has `after` or `at`, not both' },
      ]);
    });

    it('bounds the size of `after` and `at` in the shape', () => {
      const paths = errorsOf(
        timed(
          { id: 'huge', from: ['a'], to: 'b', after: `PT${'1'.repeat(80)}S` },
          { id: 'deep', from: ['a'], to: 'b', at: `/data/${'x'.repeat(600)}` },
        ),
      ).map((e) => e.path);
      expect(paths).toEqual(['/transitions/0/after', '/transitions/1/at']);
    });
  });
});

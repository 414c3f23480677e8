import { ApiError } from '../api-error';
import { decodeCursor, encodeCursor, parseCursor } from './cursor';

const raw = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('list cursors', () => {
  it('carry the last key (a snapshot id of an earlier version is ignored)', () => {
    expect(parseCursor('l', encodeCursor('l', 't-7'), 'id')).toEqual({ after: 't-7' });
    expect(parseCursor('l', raw({ l: 'l', a: 't-7', s: 'AbCdEfGh_-12' }), 'id')).toEqual({
      after: 't-7',
    });
    expect(decodeCursor('h', encodeCursor('h', '9007199254740991'), 'seq')).toBe(
      '9007199254740991',
    );
    expect(parseCursor('l', undefined, 'id')).toBeUndefined();
  });

  it('reject a cursor of another list, or with a malformed snapshot or extra members', () => {
    expect(() => parseCursor('other', encodeCursor('l', 't-7'), 'id')).toThrow(ApiError);
    for (const bad of [
      raw({ l: 'l', a: 't-7', s: 5 }),
      raw({ l: 'l', a: 't-7', s: 'snap' }),
      raw({ l: 'l', a: 't-7', x: 1 }),
      raw(['l', 't-7']),
      raw('l'),
      'not base64url!',
      `${encodeCursor('l', 't-7')}==`,
      '',
    ]) {
      expect(() => parseCursor('l', bad, 'id')).toThrow(ApiError);
    }
  });
});

describe('issue 10, measured 6: 5xx and waits on bad parameters', () => {
  const list = 'history:wf:tok';

  it('a tampered history cursor is a 400 VALIDATION_ERROR: only a positive safe integer is a seq', () => {
    for (const a of [
      '1e300',
      '0.5',
      'Infinity',
      'abc',
      '-5',
      '0',
      '',
      '01',
      '9007199254740992',
      5,
    ]) {
      let error: unknown;
      try {
        decodeCursor(list, raw({ l: list, a }), 'seq');
      } catch (err) {
        error = err;
      }
      expect({ a, code: (error as ApiError | undefined)?.code }).toEqual({
        a,
        code: 'VALIDATION_ERROR',
      });
      expect((error as ApiError).status).toBe(400);
    }
  });

  it('a token or workflow list cursor must carry an id', () => {
    for (const a of ['a.b', 'x'.repeat(65), '*', '>', 'with space', '']) {
      expect(() => decodeCursor('workflows', raw({ l: 'workflows', a }), 'id')).toThrow(ApiError);
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContractChecker, type Exchange } from './contract';

/** The committed document (the drift check keeps it what the routes generate). */
const doc = JSON.parse(readFileSync(join(__dirname, '../openapi.json'), 'utf8'));

const token = {
  id: 'order-1042',
  workflowId: 'order_processing',
  definitionVersion: 1,
  place: 'cart',
  data: {},
  metadata: { region: 'eu' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  placeEnteredAt: '2026-01-01T00:00:00.000Z',
  version: 3,
};

const exchange = (over: Partial<Exchange> & { headerList?: Record<string, string> }): Exchange => ({
  method: 'GET',
  url: '/v1/workflows/order_processing/tokens/order-1042?minSeq=3',
  status: 200,
  text: JSON.stringify(token),
  ...over,
  headers: new Headers(
    over.headerList ?? {
      'content-type': 'application/json; charset=utf-8',
      etag: '"3"',
      'x-as-of-seq': '12',
      'x-request-id': 'r-1',
    },
  ),
});

describe('ContractChecker', () => {
  it('accepts an answer as the document declares it', () => {
    const checker = new ContractChecker(doc);
    expect(checker.check(exchange({}))).toEqual([]);
    expect([...checker.checked]).toEqual(['getToken']);
  });

  it('names an undeclared status, a missing required header and a body off the schema', () => {
    const checker = new ContractChecker(doc);
    expect(checker.check(exchange({ status: 418 }))).toEqual([
      expect.stringContaining('status 418 is not declared'),
    ]);
    const noEtag = exchange({
      headerList: { 'content-type': 'application/json', 'x-as-of-seq': '1', 'x-request-id': 'r' },
    });
    expect(checker.check(noEtag)).toEqual([
      expect.stringContaining('required header ETag is missing'),
    ]);
    const badBody = exchange({ text: JSON.stringify({ ...token, version: 'three' }) });
    expect(checker.check(badBody)).toEqual([expect.stringContaining('/version must be integer')]);
    const asText = exchange({
      headerList: {
        'content-type': 'text/plain',
        etag: '"3"',
        'x-as-of-seq': '1',
        'x-request-id': 'r',
      },
    });
    expect(checker.check(asText)).toEqual([
      expect.stringContaining('content type text/plain is not one of application/json'),
    ]);
    expect(checker.violations).toHaveLength(4);
  });

  it('checks problems against Problem, 500 against default, and leaves unknown routes alone', () => {
    const checker = new ContractChecker(doc);
    const problem = {
      type: 'https://circuit-breaker.dev/problems/token-not-found',
      title: 'Token not found',
      status: 404,
      code: 'TOKEN_NOT_FOUND',
      detail: 'token order-1042 does not exist',
      requestId: 'r-1',
    };
    const headers = { 'content-type': 'application/problem+json', 'x-request-id': 'r-1' };
    expect(
      checker.check(exchange({ status: 404, text: JSON.stringify(problem), headerList: headers })),
    ).toEqual([]);
    const wrongCode = { ...problem, code: 'NO_SUCH_CODE' };
    expect(
      checker.check(
        exchange({ status: 404, text: JSON.stringify(wrongCode), headerList: headers }),
      ),
    ).toEqual([expect.stringContaining('/code must be equal to one of the allowed values')]);
    const internal = { ...problem, status: 500, code: 'INTERNAL_ERROR' };
    expect(
      checker.check(exchange({ status: 500, text: JSON.stringify(internal), headerList: headers })),
    ).toEqual([]);
    expect(checker.check(exchange({ url: '/v2/nothing', status: 404 }))).toEqual([]);
  });
});

import { createCbClient } from './index';

/** A fetch that records the requests it is given and answers each with `answer`. */
function recordingFetch(answer: () => Response): { fetch: typeof fetch; requests: Request[] } {
  const requests: Request[] = [];
  return {
    requests,
    fetch: async (input: Request | string | URL, init?: RequestInit) => {
      requests.push(input instanceof Request ? input : new Request(input, init));
      return answer();
    },
  };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('createCbClient', () => {
  it('sends the credential and the metadata filter as the wire spells it (metadata.<key>=)', async () => {
    const { fetch, requests } = recordingFetch(() =>
      json({ items: [] }, 200, { 'x-as-of-seq': '7' }),
    );
    const client = createCbClient('http://gateway.test', { authorization: 'Bearer k', fetch });
    const { data, response } = await client.GET('/v1/tokens', {
      params: {
        query: { workflowId: 'order_processing', metadata: { 'metadata.region': 'eu' }, limit: 2 },
      },
    });
    expect(data).toEqual({ items: [] });
    expect(response.headers.get('x-as-of-seq')).toBe('7');
    const url = new URL(requests[0]?.url ?? '');
    expect(url.pathname).toBe('/v1/tokens');
    expect([...url.searchParams]).toEqual([
      ['workflowId', 'order_processing'],
      ['metadata.region', 'eu'],
      ['limit', '2'],
    ]);
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer k');
  });

  it('fills path parameters, sends header parameters and the JSON body, and returns problems as error', async () => {
    const problem = { type: 'x', title: 'Version mismatch', status: 412, code: 'VERSION_MISMATCH' };
    const { fetch, requests } = recordingFetch(
      () =>
        new Response(JSON.stringify(problem), {
          status: 412,
          headers: { 'content-type': 'application/problem+json' },
        }),
    );
    const client = createCbClient('http://gateway.test', { fetch });
    const { data, error, response } = await client.POST(
      '/v1/workflows/{workflowId}/tokens/{tokenId}/fire',
      {
        params: {
          path: { workflowId: 'order_processing', tokenId: 'order-1042' },
          header: { 'if-match': '"3"' },
        },
        body: { transition: 'pay', data: { payment_method: 'card' } },
      },
    );
    expect(data).toBeUndefined();
    expect(response.status).toBe(412);
    expect(error?.code).toBe('VERSION_MISMATCH');
    const request = requests[0];
    expect(request?.method).toBe('POST');
    expect(new URL(request?.url ?? '').pathname).toBe(
      '/v1/workflows/order_processing/tokens/order-1042/fire',
    );
    expect(request?.headers.get('if-match')).toBe('"3"');
    expect(await request?.json()).toEqual({ transition: 'pay', data: { payment_method: 'card' } });
  });
});

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  MinSeqQuery,
  Problem,
  Token,
  TokenIdParams,
  TokenPage,
  TokenSearchQuery,
} from '@cb/schemas';
import { ApiError } from '../api-error';
import { maySee, tenantOf, visibleWorkflows } from '../auth/principal';
import { LIST_PAGES } from '../read/token-listing';
import type { Reads } from '../read/reads';
import { asOfHeader, sendTokenRead } from '../write-headers';

export interface SearchRouteDeps {
  reads: Reads;
}

const METADATA_PREFIX = 'metadata.';
const DATA_PREFIX = 'data.';

export const searchRoutes: FastifyPluginAsync<SearchRouteDeps> = async (app, { reads }) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/v1/tokens/:tokenId',
    {
      config: { scope: 'read', responseHeaders: { 200: ['ETag', 'X-As-Of-Seq'] } },
      schema: {
        operationId: 'findToken',
        tags: ['tokens'],
        summary: 'Look a token up by id, whatever its workflow (token ids are unique in a tenant)',
        params: TokenIdParams,
        querystring: MinSeqQuery,
        response: { 200: Token, 400: Problem, 404: Problem, 503: Problem },
      },
    },
    async (req, reply) => {
      const { tokenId } = req.params;
      const read = await reads.token(tenantOf(req), undefined, tokenId, req.query.minSeq);
      // A workflow the key may not see: exactly what an unknown token answers.
      if (!maySee(req, read.value.workflowId)) {
        throw new ApiError('TOKEN_NOT_FOUND', `token ${tokenId} does not exist`);
      }
      return sendTokenRead(reply, read);
    },
  );

  api.get(
    '/v1/tokens',
    {
      config: { scope: 'read', responseHeaders: { 200: ['X-As-Of-Seq'] } },
      schema: {
        operationId: 'searchTokens',
        tags: ['tokens'],
        summary:
          'Search live tokens across workflows by workflow, place, metadata and data values (`metadata.<key>=<value>`, `data.<key>=<value>`), ordered by id',
        description: LIST_PAGES,
        querystring: TokenSearchQuery,
        response: { 200: TokenPage, 400: Problem, 503: Problem },
      },
    },
    async (req, reply) => {
      // A Map: a key such as `__proto__` is a key like any other, never the filter's prototype.
      const metadata = new Map<string, string>();
      const data = new Map<string, string>();
      for (const [key, value] of Object.entries(req.query as Record<string, unknown>)) {
        if (typeof value !== 'string') continue;
        if (key.startsWith(METADATA_PREFIX)) metadata.set(key.slice(METADATA_PREFIX.length), value);
        else if (key.startsWith(DATA_PREFIX)) data.set(key.slice(DATA_PREFIX.length), value);
      }
      const { workflowId, place, limit, cursor, minSeq } = req.query;
      const { value, asOf } = await reads.tokens({
        tenant: tenantOf(req),
        visible: visibleWorkflows(req),
        ...(workflowId !== undefined ? { workflowId } : {}),
        ...(place !== undefined ? { place } : {}),
        metadata,
        data,
        limit: limit ?? 50,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(minSeq !== undefined ? { minSeq } : {}),
      });
      return reply.header(asOfHeader, String(asOf)).send(value);
    },
  );
};

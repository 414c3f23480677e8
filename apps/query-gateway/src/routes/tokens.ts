import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateTokenBody,
  FireBody,
  PatchTokenBody,
  Problem,
  HistoryPage,
  HistoryQuery,
  Token,
  TokenListQuery,
  TokenPage,
  TokenReadQuery,
  TransitionAvailability,
  TokenParams,
  WorkflowParams,
  WriteHeaders,
} from '@cb/schemas';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../api-error';
import { tenantOf } from '../auth/principal';
import type { CommandClient } from '../command-client';
import { LIST_PAGES } from '../read/token-listing';
import type { Reads } from '../read/reads';
import { asOfHeader, etag, requestOptions, sendTokenRead } from '../write-headers';

export interface TokenRouteDeps {
  commands: CommandClient;
  reads: Reads;
}

const writeErrors = {
  400: Problem,
  404: Problem,
  409: Problem,
  412: Problem,
  413: Problem,
  422: Problem,
  503: Problem,
  504: Problem,
};

export const tokenRoutes: FastifyPluginAsync<TokenRouteDeps> = async (app, { commands, reads }) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/v1/workflows/:workflowId/tokens',
    {
      config: { scope: 'tokens:write', responseHeaders: { 201: ['Location', 'ETag'] } },
      schema: {
        operationId: 'createToken',
        tags: ['tokens'],
        summary: 'Create a token (in the initial place unless `place` is given)',
        params: WorkflowParams,
        body: CreateTokenBody,
        headers: WriteHeaders,
        response: { 201: Token, ...writeErrors },
      },
    },
    async (req, reply) => {
      const { workflowId } = req.params;
      const { id, place, data, metadata, triggeredBy } = req.body;
      const { token } = await commands.token(
        {
          command: {
            type: 'CreateToken',
            workflowId,
            ...(id !== undefined ? { tokenId: id } : {}),
            ...(place !== undefined ? { place } : {}),
            ...(data !== undefined ? { data } : {}),
            ...(metadata !== undefined ? { metadata } : {}),
          },
          ...requestOptions(
            req,
            { 'idempotency-key': req.headers['idempotency-key'] },
            triggeredBy,
          ),
        },
        req.id,
      );
      return reply
        .code(201)
        .header('location', `/v1/workflows/${workflowId}/tokens/${token.id}`)
        .header('etag', etag(token.version))
        .send(token);
    },
  );

  api.post(
    '/v1/workflows/:workflowId/tokens/:tokenId/fire',
    {
      config: { scope: 'tokens:write', responseHeaders: { 200: ['ETag'] } },
      schema: {
        operationId: 'fireTransition',
        tags: ['tokens'],
        summary: 'Fire a transition; data/metadata are merge patches applied before the guard runs',
        params: TokenParams,
        body: FireBody,
        headers: WriteHeaders,
        response: { 200: Token, ...writeErrors },
      },
    },
    async (req, reply) => {
      const { workflowId, tokenId } = req.params;
      const { transition, data, metadata, triggeredBy } = req.body;
      const { token } = await commands.token(
        {
          command: {
            type: 'FireTransition',
            workflowId,
            tokenId,
            transition,
            ...(data !== undefined ? { data } : {}),
            ...(metadata !== undefined ? { metadata } : {}),
          },
          ...requestOptions(req, req.headers, triggeredBy),
        },
        req.id,
      );
      return reply.header('etag', etag(token.version)).send(token);
    },
  );

  api.patch(
    '/v1/workflows/:workflowId/tokens/:tokenId',
    {
      config: { scope: 'tokens:write', responseHeaders: { 200: ['ETag'] } },
      schema: {
        operationId: 'patchToken',
        tags: ['tokens'],
        summary: 'Merge-patch (RFC 7386) the token data and/or metadata',
        params: TokenParams,
        body: PatchTokenBody,
        headers: WriteHeaders,
        response: { 200: Token, ...writeErrors },
      },
    },
    async (req, reply) => {
      const { workflowId, tokenId } = req.params;
      const { data, metadata, triggeredBy } = req.body;
      const { token } = await commands.token(
        {
          command: {
            type: 'UpdateToken',
            workflowId,
            tokenId,
            ...(data !== undefined ? { data } : {}),
            ...(metadata !== undefined ? { metadata } : {}),
          },
          ...requestOptions(req, req.headers, triggeredBy),
        },
        req.id,
      );
      return reply.header('etag', etag(token.version)).send(token);
    },
  );

  api.delete(
    '/v1/workflows/:workflowId/tokens/:tokenId',
    {
      config: { scope: 'tokens:write', responseHeaders: { 204: ['ETag'] } },
      schema: {
        operationId: 'deleteToken',
        tags: ['tokens'],
        summary: 'Delete a token (its history stays in the stream)',
        params: TokenParams,
        headers: WriteHeaders,
        querystring: Type.Object(
          { triggeredBy: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...writeErrors },
      },
    },
    async (req, reply) => {
      const { workflowId, tokenId } = req.params;
      const { token } = await commands.token(
        {
          command: { type: 'DeleteToken', workflowId, tokenId },
          ...requestOptions(req, req.headers, req.query.triggeredBy),
        },
        req.id,
      );
      return reply.code(204).header('etag', etag(token.version)).send(null);
    },
  );

  api.get(
    '/v1/workflows/:workflowId/tokens/:tokenId',
    {
      config: { scope: 'read', responseHeaders: { 200: ['ETag', 'X-As-Of-Seq'] } },
      schema: {
        operationId: 'getToken',
        tags: ['tokens'],
        summary:
          'Read a token from the read model (`minSeq` for read-your-writes; `consistency=strong` reads the stream)',
        params: TokenParams,
        querystring: TokenReadQuery,
        response: { 200: Token, 400: Problem, 404: Problem, 503: Problem },
      },
    },
    async (req, reply) => {
      const { workflowId, tokenId } = req.params;
      if (req.query.consistency === 'strong') {
        const token = await reads.strongToken(tenantOf(req), workflowId, tokenId);
        return sendTokenRead(reply, { value: token, asOf: token.version });
      }
      return sendTokenRead(
        reply,
        await reads.token(tenantOf(req), workflowId, tokenId, req.query.minSeq),
      );
    },
  );

  api.get(
    '/v1/workflows/:workflowId/tokens',
    {
      config: { scope: 'read', responseHeaders: { 200: ['X-As-Of-Seq'] } },
      schema: {
        operationId: 'listWorkflowTokens',
        tags: ['tokens'],
        summary:
          'Tokens of a workflow, or of one place, ordered by id; cursor pages list each token that stays exactly once',
        description: LIST_PAGES,
        params: WorkflowParams,
        querystring: TokenListQuery,
        response: { 200: TokenPage, 400: Problem, 404: Problem, 503: Problem },
      },
    },
    async (req, reply) => {
      const { workflowId } = req.params;
      const { place, limit, cursor, minSeq } = req.query;
      const tenant = tenantOf(req);
      const definition = await reads.workflow(tenant, workflowId);
      if (place !== undefined && !definition.places.includes(place)) {
        throw new ApiError(
          'VALIDATION_ERROR',
          `place ${place} is not declared by workflow ${workflowId} (places: ${definition.places.join(', ')})`,
          { errors: [{ path: 'querystring/place', message: 'is not a place of the workflow' }] },
        );
      }
      const { value, asOf } = await reads.tokens({
        tenant,
        workflowId,
        ...(place !== undefined ? { place } : {}),
        limit: limit ?? 50,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(minSeq !== undefined ? { minSeq } : {}),
      });
      return reply.header(asOfHeader, String(asOf)).send(value);
    },
  );

  api.get(
    '/v1/workflows/:workflowId/tokens/:tokenId/transitions',
    {
      config: { scope: 'read', responseHeaders: { 200: ['X-As-Of-Seq'] } },
      schema: {
        operationId: 'listTransitions',
        tags: ['tokens'],
        summary:
          'Every transition of the token’s definition version: enabled, or each reason it is not (wrong place, failing guard paths)',
        params: TokenParams,
        querystring: TokenReadQuery,
        response: {
          200: Type.Object({ items: Type.Array(TransitionAvailability) }),
          400: Problem,
          404: Problem,
          503: Problem,
        },
      },
    },
    async (req, reply) => {
      const { workflowId, tokenId } = req.params;
      const { value, asOf } = await reads.transitions(tenantOf(req), workflowId, tokenId, {
        strong: req.query.consistency === 'strong',
        ...(req.query.minSeq !== undefined ? { minSeq: req.query.minSeq } : {}),
      });
      return reply.header(asOfHeader, String(asOf)).send({ items: value });
    },
  );

  api.get(
    '/v1/workflows/:workflowId/tokens/:tokenId/history',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getTokenHistory',
        tags: ['tokens'],
        summary: 'Every event of the token in stream order, from the stream (deleted tokens too)',
        params: TokenParams,
        querystring: HistoryQuery,
        response: { 200: HistoryPage, 400: Problem, 404: Problem, 503: Problem },
      },
    },
    async (req) => {
      const { workflowId, tokenId } = req.params;
      return reads.history(
        tenantOf(req),
        workflowId,
        tokenId,
        req.query.limit ?? 1000,
        req.query.cursor,
      );
    },
  );
};

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateTokenBody,
  FireBody,
  PatchTokenBody,
  Problem,
  StrongReadQuery,
  Token,
  TokenParams,
  WorkflowParams,
  WriteHeaders,
} from '@cb/schemas';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../api-error';
import type { CommandClient } from '../command-client';
import type { StrongTokenReader } from '../token-reader';
import { etag, requestOptions } from '../write-headers';

export interface TokenRouteDeps {
  commands: CommandClient;
  strongReads: StrongTokenReader;
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

export const tokenRoutes: FastifyPluginAsync<TokenRouteDeps> = async (
  app,
  { commands, strongReads },
) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/v1/workflows/:workflowId/tokens',
    {
      schema: {
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
        'token.create',
        {
          command: {
            type: 'CreateToken',
            workflowId,
            ...(id !== undefined ? { tokenId: id } : {}),
            ...(place !== undefined ? { place } : {}),
            ...(data !== undefined ? { data } : {}),
            ...(metadata !== undefined ? { metadata } : {}),
          },
          ...requestOptions({ 'idempotency-key': req.headers['idempotency-key'] }, triggeredBy),
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
      schema: {
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
        'token.fire',
        {
          command: {
            type: 'FireTransition',
            workflowId,
            tokenId,
            transition,
            ...(data !== undefined ? { data } : {}),
            ...(metadata !== undefined ? { metadata } : {}),
          },
          ...requestOptions(req.headers, triggeredBy),
        },
        req.id,
      );
      return reply.header('etag', etag(token.version)).send(token);
    },
  );

  api.patch(
    '/v1/workflows/:workflowId/tokens/:tokenId',
    {
      schema: {
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
        'token.update',
        {
          command: {
            type: 'UpdateToken',
            workflowId,
            tokenId,
            ...(data !== undefined ? { data } : {}),
            ...(metadata !== undefined ? { metadata } : {}),
          },
          ...requestOptions(req.headers, triggeredBy),
        },
        req.id,
      );
      return reply.header('etag', etag(token.version)).send(token);
    },
  );

  api.delete(
    '/v1/workflows/:workflowId/tokens/:tokenId',
    {
      schema: {
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
        'token.delete',
        {
          command: { type: 'DeleteToken', workflowId, tokenId },
          ...requestOptions(req.headers, req.query.triggeredBy),
        },
        req.id,
      );
      return reply.code(204).header('etag', etag(token.version)).send(null);
    },
  );

  api.get(
    '/v1/workflows/:workflowId/tokens/:tokenId',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Read a token (`consistency=strong` reads the stream directly)',
        params: TokenParams,
        querystring: StrongReadQuery,
        response: { 200: Token, 400: Problem, 404: Problem, 503: Problem },
      },
    },
    async (req, reply) => {
      const { workflowId, tokenId } = req.params;
      // Until the read models exist every read is served from the stream.
      const token = await strongReads.get(workflowId, tokenId);
      if (token === null) {
        throw new ApiError(
          'TOKEN_NOT_FOUND',
          `token ${tokenId} does not exist in workflow ${workflowId}`,
        );
      }
      return reply.header('etag', etag(token.version)).send(token);
    },
  );
};

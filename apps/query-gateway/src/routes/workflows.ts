import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DefinitionCheck,
  DefinitionCheckBody,
  PageQuery,
  Problem,
  StatsQuery,
  StatsResponse,
  WorkflowDefinitionInput,
  WorkflowGetQuery,
  WorkflowPage,
  WorkflowParams,
  WorkflowResource,
  WorkflowVersionInput,
  WriteHeaders,
} from '@cb/schemas';
import { ApiError } from '../api-error';
import { assertMayDefine, tenantOf, visibleWorkflows } from '../auth/principal';
import type { CommandClient } from '../command-client';
import { checkDefinition, type GuardCompiler } from '../definitions/check-definition';
import type { Reads } from '../read/reads';
import { asOfHeader, etag, requestOptions } from '../write-headers';

export interface WorkflowRouteDeps {
  commands: CommandClient;
  reads: Reads;
  /** Compiles guards for `POST /v1/workflow-validations` (the gateway's guard pool). */
  guards: GuardCompiler;
}

const errors = {
  400: Problem,
  404: Problem,
  409: Problem,
  412: Problem,
  413: Problem,
  503: Problem,
};

/** Definitions are immutable and versioned: POST defines version 1, PUT adds a version. */
export const workflowRoutes: FastifyPluginAsync<WorkflowRouteDeps> = async (
  app,
  { commands, reads, guards },
) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/v1/workflows',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listWorkflows',
        tags: ['workflows'],
        summary: 'Workflow definitions (latest versions), ordered by id',
        querystring: PageQuery,
        response: { 200: WorkflowPage, 400: Problem, 503: Problem },
      },
    },
    async (req) => {
      const { limit, cursor, minSeq } = req.query;
      return reads.workflows(tenantOf(req), limit ?? 50, cursor, minSeq, visibleWorkflows(req));
    },
  );

  api.get(
    '/v1/workflows/:workflowId',
    {
      config: { scope: 'read', responseHeaders: { 200: ['ETag'] } },
      schema: {
        operationId: 'getWorkflow',
        tags: ['workflows'],
        summary: 'A workflow definition: the latest version, or `?version=n`',
        params: WorkflowParams,
        querystring: WorkflowGetQuery,
        response: { 200: WorkflowResource, 400: Problem, 404: Problem, 503: Problem },
      },
    },
    async (req, reply) => {
      const resource = await reads.workflow(
        tenantOf(req),
        req.params.workflowId,
        req.query.version,
        req.query.minSeq,
      );
      return reply.header('etag', etag(resource.version)).send(resource);
    },
  );

  api.get(
    '/v1/workflows/:workflowId/stats',
    {
      config: { scope: 'read', responseHeaders: { 200: ['X-As-Of-Seq'] } },
      schema: {
        operationId: 'getWorkflowStats',
        tags: ['workflows'],
        summary:
          'Live tokens in total and per place, transitions fired, average time in place, tokens created and completed in a window',
        params: WorkflowParams,
        querystring: StatsQuery,
        response: { 200: StatsResponse, 400: Problem, 404: Problem, 503: Problem },
      },
    },
    async (req, reply) => {
      const { from, to, minSeq } = req.query;
      const { value, asOf } = await reads.stats(
        tenantOf(req),
        req.params.workflowId,
        { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) },
        minSeq,
      );
      return reply.header(asOfHeader, String(asOf)).send(value);
    },
  );

  api.post(
    '/v1/workflows',
    {
      config: { scope: 'workflows:write', responseHeaders: { 201: ['Location', 'ETag'] } },
      schema: {
        operationId: 'defineWorkflow',
        tags: ['workflows'],
        summary: 'Define a workflow (version 1)',
        body: WorkflowDefinitionInput,
        headers: WriteHeaders,
        response: { 201: WorkflowResource, ...errors },
      },
    },
    async (req, reply) => {
      assertMayDefine(req, req.body.id);
      const result = await commands.workflow(
        {
          command: { type: 'DefineWorkflow', mode: 'create', definition: req.body },
          ...requestOptions(req, req.headers, undefined),
        },
        req.id,
      );
      const wf = result.workflow;
      return reply
        .code(201)
        .header('location', `/v1/workflows/${wf.id}`)
        .header('etag', etag(wf.version))
        .send(wf);
    },
  );

  // Not `/v1/workflows/validate`: "validate" is a legal workflow id.
  api.post(
    '/v1/workflow-validations',
    {
      config: { scope: 'workflows:write' },
      schema: {
        operationId: 'validateWorkflow',
        tags: ['workflows'],
        summary: 'Check a definition as `POST /v1/workflows` would, without storing it',
        description:
          'Answers 200 with every problem `POST /v1/workflows` would report (`valid: false` and `errors`, each with a JSON Pointer `path`), shape problems included, and the structural `analysis` (unreachable places, dead ends) once the body has the shape of a definition. Guards are compiled as at define time. Nothing is written; whether the id is taken is not checked. The body limit is that of `POST /v1/workflows`.',
        body: DefinitionCheckBody,
        response: {
          200: DefinitionCheck,
          400: Problem,
          413: Problem,
          415: Problem,
          503: Problem,
        },
      },
    },
    async (req) => {
      const body = req.body as Record<string, unknown>;
      const id = typeof body.id === 'string' ? body.id : '';
      return checkDefinition(body, guards, `validate:${tenantOf(req)}/${id}`);
    },
  );

  api.put(
    '/v1/workflows/:workflowId',
    {
      config: { scope: 'workflows:write', responseHeaders: { 200: ['ETag'] } },
      schema: {
        operationId: 'defineWorkflowVersion',
        tags: ['workflows'],
        summary: 'Define a new version of a workflow (If-Match takes the current version number)',
        params: WorkflowParams,
        body: WorkflowVersionInput,
        headers: WriteHeaders,
        response: { 200: WorkflowResource, ...errors },
      },
    },
    async (req, reply) => {
      const { workflowId } = req.params;
      if (req.body.id !== undefined && req.body.id !== workflowId) {
        throw new ApiError(
          'VALIDATION_ERROR',
          `body id ${req.body.id} does not match the path ${workflowId}`,
          {
            errors: [{ path: 'body/id', message: 'must match the workflow id in the path' }],
          },
        );
      }
      const result = await commands.workflow(
        {
          command: {
            type: 'DefineWorkflow',
            mode: 'version',
            definition: { ...req.body, id: workflowId },
          },
          ...requestOptions(req, req.headers, undefined),
        },
        req.id,
      );
      return reply.header('etag', etag(result.workflow.version)).send(result.workflow);
    },
  );
};

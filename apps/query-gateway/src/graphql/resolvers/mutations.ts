import {
  BulkFireBody,
  CreateTokenBody,
  FireBody,
  IdempotencyKey,
  WorkflowDefinitionInput,
  compileValidator,
  type CommandRequest,
  type Token,
} from '@cb/schemas';
import type { TSchema } from '@sinclair/typebox';
import { ApiError } from '../../api-error';
import { bulkFire } from '../../bulk-fire/run';
import { defined, idOf, minSeqOf } from '../args';
import { maySee, need, principalRefFor, tenantFor, type GraphqlContext } from '../context';
import { toGqlWorkflow } from '../mapping';
import { gqlToken, strongToken } from './tokens';

type Args<T> = { [K in keyof T]: T[K] | null | undefined };
type Input = Record<string, unknown>;

const validators = new Map<TSchema, ReturnType<typeof compileValidator>>();

/**
 * The input, held to the body schema of the REST route doing the same (so both refuse the same
 * things, with the same VALIDATION_ERROR `errors`).
 */
function check<T>(schema: TSchema, value: unknown, path: string): T {
  let v = validators.get(schema);
  if (v === undefined) {
    v = compileValidator(schema);
    validators.set(schema, v);
  }
  if (v.check(value)) return value as T;
  const errors = v
    .errors(value)
    .map((e) => ({ path: `${path}${e.path === '/' ? '' : e.path}`, message: e.message }));
  throw new ApiError(
    'VALIDATION_ERROR',
    `${path} is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    { errors },
  );
}

const idempotencyKeys = compileValidator(IdempotencyKey);

/** `expectedVersion` / `idempotencyKey`: what `If-Match` and `Idempotency-Key` carry on REST. */
function writeOptions(
  ctx: GraphqlContext,
  workflowId: string,
  a: { expectedVersion?: number | null; idempotencyKey?: string | null },
  triggeredBy: unknown,
): Omit<CommandRequest, 'command'> {
  const { expectedVersion, idempotencyKey } = a;
  if (
    expectedVersion !== null &&
    expectedVersion !== undefined &&
    (!Number.isInteger(expectedVersion) || expectedVersion < 0)
  ) {
    throw new ApiError('VALIDATION_ERROR', 'expectedVersion must be an integer ≥ 0', {
      errors: [{ path: 'expectedVersion', message: 'must be an integer ≥ 0' }],
    });
  }
  if (
    idempotencyKey !== null &&
    idempotencyKey !== undefined &&
    !idempotencyKeys.check(idempotencyKey)
  ) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'idempotencyKey must be 1 to 255 visible ASCII characters',
      {
        errors: [{ path: 'idempotencyKey', message: 'must be 1 to 255 visible ASCII characters' }],
      },
    );
  }
  return {
    principal: principalRefFor(ctx, workflowId),
    ...(typeof triggeredBy === 'string' ? { triggeredBy } : {}),
    ...(expectedVersion !== null && expectedVersion !== undefined ? { expectedVersion } : {}),
    ...(idempotencyKey !== null && idempotencyKey !== undefined ? { idempotencyKey } : {}),
  };
}

async function createToken(
  ctx: GraphqlContext,
  workflowId: string,
  body: { id?: string; place?: string; data?: unknown; metadata?: unknown; triggeredBy?: string },
  idempotencyKey: string | null | undefined,
): Promise<Token> {
  need(ctx, 'tokens:write');
  idOf('workflowId', workflowId);
  const checked = check<typeof body>(CreateTokenBody, body, 'input');
  const { token } = await ctx.deps.commands.token(
    {
      command: {
        type: 'CreateToken',
        workflowId,
        ...(checked.id !== undefined ? { tokenId: checked.id } : {}),
        ...(checked.place !== undefined ? { place: checked.place } : {}),
        ...(checked.data !== undefined ? { data: checked.data as Record<string, never> } : {}),
        ...(checked.metadata !== undefined
          ? { metadata: checked.metadata as Record<string, never> }
          : {}),
      },
      ...writeOptions(ctx, workflowId, { idempotencyKey }, checked.triggeredBy),
    },
    ctx.requestId,
  );
  return token;
}

async function fire(
  ctx: GraphqlContext,
  input: {
    tokenId: string;
    transitionId: string;
    data?: unknown;
    metadata?: unknown;
    triggeredBy?: string;
  },
  a: { expectedVersion?: number | null; idempotencyKey?: string | null },
  newPlace?: string,
): Promise<Token> {
  need(ctx, 'tokens:write');
  const tokenId = idOf('tokenId', input.tokenId);
  const body = check<{
    transition: string;
    data?: object;
    metadata?: object;
    triggeredBy?: string;
  }>(
    FireBody,
    defined({
      transition: input.transitionId,
      data: input.data,
      metadata: input.metadata,
      triggeredBy: input.triggeredBy,
    }),
    'input',
  );
  // Strong: a token created a moment ago is found even while the read model catches up.
  const current = await strongToken(ctx, tokenId);
  if (newPlace !== undefined) {
    const definition = await ctx.deps.reads.workflow(
      ctx.principal.tenant,
      current.workflowId,
      current.definitionVersion,
    );
    const transition = definition.transitions.find((t) => t.id === body.transition);
    if (transition !== undefined && transition.to !== newPlace) {
      throw new ApiError(
        'TARGET_PLACE_MISMATCH',
        `transition ${transition.id} leads to ${transition.to}, not ${newPlace}; nothing was written`,
        { transition: transition.id, newPlace, toPlace: transition.to },
      );
    }
  }
  const { token } = await ctx.deps.commands.token(
    {
      command: {
        type: 'FireTransition',
        workflowId: current.workflowId,
        tokenId,
        transition: body.transition,
        ...(body.data !== undefined ? { data: body.data as Record<string, never> } : {}),
        ...(body.metadata !== undefined
          ? { metadata: body.metadata as Record<string, never> }
          : {}),
      },
      ...writeOptions(ctx, current.workflowId, a, body.triggeredBy),
    },
    ctx.requestId,
  );
  return token;
}

interface TransitionInput {
  id: string;
  fromPlaces: string[];
  toPlace: string;
  conditions?: string[] | null;
  description?: string | null;
  guard?: unknown;
  after?: string | null;
  at?: string | null;
}

/** The original's definition input in ours (`fromPlaces` → `from`, `toPlace` → `to`). */
function definitionOf(input: Input): unknown {
  const transitions = Array.isArray(input.transitions)
    ? (input.transitions as TransitionInput[])
    : [];
  transitions.forEach((t, i) => {
    if (t.conditions && t.conditions.length > 0) {
      throw new ApiError(
        'VALIDATION_ERROR',
        'conditions are not supported: give a guard (JSON Schema)',
        {
          errors: [
            { path: `input/transitions/${i}/conditions`, message: 'is not supported; use guard' },
          ],
        },
      );
    }
  });
  return defined({
    id: input.id,
    name: input.name,
    description: input.description,
    places: input.places,
    initialPlace: input.initialPlace,
    finalPlaces: input.finalPlaces,
    searchAttributes: input.searchAttributes,
    transitions: transitions.map((t) =>
      defined({
        id: t.id,
        from: t.fromPlaces,
        to: t.toPlace,
        guard: t.guard,
        description: t.description,
        after: t.after,
        at: t.at,
      }),
    ),
  });
}

export const mutationResolvers = {
  createWorkflow: async (
    _: unknown,
    a: Args<{ input: Input; idempotencyKey: string }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'workflows:write');
    const definition = check<{ id: string }>(
      WorkflowDefinitionInput,
      definitionOf(a.input ?? {}),
      'input',
    );
    // A key restricted to some workflows may define only those (as REST's assertMayDefine).
    if (!maySee(ctx, definition.id)) {
      const workflows = ctx.principal.workflows ?? [];
      throw new ApiError(
        'FORBIDDEN',
        `this credential may only define the workflows ${workflows.join(', ')}`,
        {
          workflows,
        },
      );
    }
    const result = await ctx.deps.commands.workflow(
      {
        command: { type: 'DefineWorkflow', mode: 'create', definition: definition as never },
        ...writeOptions(ctx, definition.id, { idempotencyKey: a.idempotencyKey }, undefined),
      },
      ctx.requestId,
    );
    return toGqlWorkflow(result.workflow);
  },

  createToken: async (
    _: unknown,
    a: Args<{ input: Input & { workflowId: string }; idempotencyKey: string }>,
    ctx: GraphqlContext,
  ) => {
    const input = a.input!;
    const token = await createToken(
      ctx,
      input.workflowId,
      defined({
        id: input.id,
        place: input.initialPlace,
        data: input.data,
        metadata: input.metadata,
        triggeredBy: input.triggeredBy,
      }) as never,
      a.idempotencyKey,
    );
    return gqlToken(ctx, token);
  },

  createWorkflowInstance: async (
    _: unknown,
    a: Args<{ input: Input & { workflowId: string }; idempotencyKey: string }>,
    ctx: GraphqlContext,
  ) => {
    const input = a.input!;
    const token = await createToken(
      ctx,
      input.workflowId,
      defined({
        data: input.initialData,
        metadata: input.metadata,
        triggeredBy: input.triggeredBy,
      }) as never,
      a.idempotencyKey,
    );
    return gqlToken(ctx, token);
  },

  fireTransition: async (
    _: unknown,
    a: Args<{
      input: Input & { tokenId: string; transitionId: string };
      expectedVersion: number;
      idempotencyKey: string;
    }>,
    ctx: GraphqlContext,
  ) => gqlToken(ctx, await fire(ctx, a.input as never, a)),

  transitionTokenWithNats: async (
    _: unknown,
    a: Args<{
      input: Input & { tokenId: string; transitionId: string; newPlace: string };
      expectedVersion: number;
      idempotencyKey: string;
    }>,
    ctx: GraphqlContext,
  ) => {
    const input = a.input!;
    const newPlace = idOf('newPlace', input.newPlace);
    return gqlToken(
      ctx,
      await fire(ctx, defined({ ...input, newPlace: undefined }) as never, a, newPlace),
    );
  },

  bulkTransitionTokens: async (
    _: unknown,
    a: Args<{ input: Input & { workflowId: string }; idempotencyKey: string; minSeq: number }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'tokens:write');
    const input = a.input!;
    const workflowId = idOf('workflowId', input.workflowId);
    const body = check<BulkFireBody>(
      BulkFireBody,
      defined({
        transition: input.transitionId,
        place: input.fromPlace,
        filter: input.filter,
        limit: input.limit,
        cursor: input.cursor,
        triggeredBy: input.triggeredBy,
      }),
      'input',
    );
    const options = writeOptions(ctx, workflowId, { idempotencyKey: a.idempotencyKey }, undefined);
    const { deps } = ctx;
    const result = await bulkFire(
      {
        commands: deps.commands,
        reads: deps.reads,
        concurrency: deps.bulkFireConcurrency,
        idempotencyWindowMs: deps.idempotencyWindowMs,
      },
      {
        tenant: tenantFor(ctx, workflowId),
        principal: options.principal!,
        workflowId,
        body,
        idempotencyKey: options.idempotencyKey,
        minSeq: minSeqOf(a.minSeq),
        requestId: ctx.requestId,
        aborted: () => false,
        log: ctx.log,
      },
    );
    return {
      success: result.failed === 0,
      processedCount: result.succeeded,
      failedCount: result.failed,
      errors: result.errors.map((e) => `${e.tokenId}: ${e.code}: ${e.message}`),
      succeededIds: result.succeededIds,
      truncated: result.truncated,
      nextCursor: result.nextCursor ?? null,
    };
  },
};

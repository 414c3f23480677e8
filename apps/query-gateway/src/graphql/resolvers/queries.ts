import { ApiError } from '../../api-error';
import { encodeCursor } from '../../read/cursor';
import { restriction } from '../../read/context';
import type { TokenQuery } from '../../read/reads';
import { afterOf, firstOf, idOf, minSeqOf } from '../args';
import { need, tenantFor, visibleOf, type GraphqlContext } from '../context';
import { toAvailableTransition, toGqlWorkflow, type GqlToken } from '../mapping';
import { gqlToken, readToken } from './tokens';

/** Workflows `findTokens` looks in at most, and places it accepts. */
export const MAX_FILTER_WORKFLOWS = 20;
export const MAX_FILTER_PLACES = 20;
/** Metadata keys `findTokens` matches at most. */
const MAX_FILTER_METADATA = 16;
/** Listing pages one filtered list reads at most to fill `first` (each bounded itself). */
const MAX_PAGES = 4;

type Args<T> = { [K in keyof T]: T[K] | null | undefined };

/** A list of tokens, as `GET /v1/workflows/:workflowId/tokens` or `GET /v1/tokens` list them. */
async function listTokens(
  ctx: GraphqlContext,
  query: TokenQuery,
  keep?: (t: { place: string }) => boolean,
) {
  const out: GqlToken[] = [];
  let after = query.after;
  for (let page = 0; page < MAX_PAGES && out.length < query.limit; page++) {
    const { value, resumeAfter } = await ctx.deps.reads.tokens({
      ...query,
      limit: query.limit - out.length,
      ...(after !== undefined ? { after } : {}),
    });
    for (const t of value.items) if (!keep || keep(t)) out.push(gqlToken(ctx, t));
    const next = resumeAfter ?? value.items.at(-1)?.id;
    if (value.nextCursor === undefined || next === undefined) break;
    after = next;
  }
  return out;
}

async function workflowOf(ctx: GraphqlContext, workflowId: string, minSeq?: number) {
  return ctx.deps.reads.workflow(
    tenantFor(ctx, workflowId),
    idOf('workflowId', workflowId),
    undefined,
    minSeq,
  );
}

function metadataFilter(metadata: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (metadata === null || metadata === undefined) return out;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new ApiError('VALIDATION_ERROR', 'filter.metadata must be an object', {
      errors: [{ path: 'filter/metadata', message: 'must be an object' }],
    });
  }
  const entries = Object.entries(metadata as Record<string, unknown>);
  if (entries.length > MAX_FILTER_METADATA) {
    throw new ApiError(
      'VALIDATION_ERROR',
      `filter.metadata has at most ${MAX_FILTER_METADATA} keys`,
      {
        errors: [
          { path: 'filter/metadata', message: `must have at most ${MAX_FILTER_METADATA} keys` },
        ],
      },
    );
  }
  for (const [key, value] of entries) {
    if (!['string', 'number', 'boolean'].includes(typeof value) || key.length > 64) {
      throw new ApiError(
        'VALIDATION_ERROR',
        `filter.metadata.${key.slice(0, 64)} must be a string, number or boolean`,
        {
          errors: [
            {
              path: `filter/metadata/${key.slice(0, 64)}`,
              message: 'must be a string, number or boolean',
            },
          ],
        },
      );
    }
    // Compared as text, as REST's `metadata.<key>=<value>` is.
    out.set(key, String(value));
  }
  return out;
}

function bounded(
  name: string,
  list: readonly string[] | null | undefined,
  max: number,
): string[] | undefined {
  if (list === null || list === undefined) return undefined;
  if (list.length > max) {
    throw new ApiError('VALIDATION_ERROR', `${name} has at most ${max} entries`, {
      errors: [{ path: name.replace('.', '/'), message: `must have at most ${max} entries` }],
    });
  }
  return [...new Set(list.map((v) => idOf(name, v)))];
}

export const queryResolvers = {
  workflow: async (_: unknown, a: Args<{ id: string; minSeq: number }>, ctx: GraphqlContext) => {
    need(ctx, 'read');
    return toGqlWorkflow(await workflowOf(ctx, a.id!, minSeqOf(a.minSeq)));
  },

  workflows: async (
    _: unknown,
    a: Args<{ first: number; after: string; minSeq: number }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'read');
    const tenant = ctx.principal.tenant;
    const visible = visibleOf(ctx);
    const after = afterOf(a.after);
    // `after` is an id; the read layer pages by its cursor of the same list.
    const cursor =
      after === undefined
        ? undefined
        : encodeCursor(`workflows:${tenant}${restriction(visible)}`, after);
    const page = await ctx.deps.reads.workflows(
      tenant,
      firstOf(a.first),
      cursor,
      minSeqOf(a.minSeq),
      visible,
    );
    return page.items.map(toGqlWorkflow);
  },

  token: async (_: unknown, a: Args<{ id: string; minSeq: number }>, ctx: GraphqlContext) => {
    need(ctx, 'read');
    return gqlToken(ctx, await readToken(ctx, idOf('id', a.id!), minSeqOf(a.minSeq)));
  },

  natsToken: async (_: unknown, a: Args<{ id: string; minSeq: number }>, ctx: GraphqlContext) => {
    need(ctx, 'read');
    return gqlToken(ctx, await readToken(ctx, idOf('id', a.id!), minSeqOf(a.minSeq)));
  },

  tokens: async (
    _: unknown,
    a: Args<{ workflowId: string; first: number; after: string; minSeq: number }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'read');
    const minSeq = minSeqOf(a.minSeq);
    const definition = await workflowOf(ctx, a.workflowId!);
    const after = afterOf(a.after);
    return listTokens(ctx, {
      tenant: tenantFor(ctx, definition.id),
      workflowId: definition.id,
      limit: firstOf(a.first),
      ...(after !== undefined ? { after } : {}),
      ...(minSeq !== undefined ? { minSeq } : {}),
    });
  },

  tokensInPlace: async (
    _: unknown,
    a: Args<{ workflowId: string; placeId: string; first: number; after: string; minSeq: number }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'read');
    const minSeq = minSeqOf(a.minSeq);
    const definition = await workflowOf(ctx, a.workflowId!);
    const place = idOf('placeId', a.placeId!);
    if (!definition.places.includes(place)) {
      throw new ApiError(
        'VALIDATION_ERROR',
        `place ${place} is not declared by workflow ${definition.id} (places: ${definition.places.join(', ')})`,
        { errors: [{ path: 'placeId', message: 'is not a place of the workflow' }] },
      );
    }
    const after = afterOf(a.after);
    return listTokens(ctx, {
      tenant: tenantFor(ctx, definition.id),
      workflowId: definition.id,
      place,
      limit: firstOf(a.first),
      ...(after !== undefined ? { after } : {}),
      ...(minSeq !== undefined ? { minSeq } : {}),
    });
  },

  findToken: async (
    _: unknown,
    a: Args<{ workflowId: string; tokenId: string; minSeq: number }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'read');
    const workflowId = idOf('workflowId', a.workflowId!);
    const tokenId = idOf('tokenId', a.tokenId!);
    const read = await ctx.deps.reads.token(
      tenantFor(ctx, workflowId),
      workflowId,
      tokenId,
      minSeqOf(a.minSeq),
    );
    return gqlToken(ctx, read.value);
  },

  findTokens: async (
    _: unknown,
    a: Args<{
      filter: { workflowIds?: string[] | null; places?: string[] | null; metadata?: unknown };
      first: number;
      after: string;
      minSeq: number;
    }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'read');
    const filter = a.filter ?? {};
    const workflowIds = bounded('filter.workflowIds', filter.workflowIds, MAX_FILTER_WORKFLOWS);
    const places = bounded('filter.places', filter.places, MAX_FILTER_PLACES);
    const metadata = metadataFilter(filter.metadata);
    const first = firstOf(a.first);
    const after = afterOf(a.after);
    const minSeq = minSeqOf(a.minSeq);
    const base = {
      tenant: ctx.principal.tenant,
      visible: visibleOf(ctx),
      metadata,
      limit: first,
      ...(places?.length === 1 ? { place: places[0]! } : {}),
      ...(after !== undefined ? { after } : {}),
      ...(minSeq !== undefined ? { minSeq } : {}),
    };
    const keep =
      places && places.length > 1 ? (t: { place: string }) => places.includes(t.place) : undefined;
    // One listing per workflow (or one across the tenant), merged in id order as REST orders.
    const lists = await Promise.all(
      (workflowIds ?? [undefined]).map((workflowId) =>
        listTokens(ctx, { ...base, ...(workflowId !== undefined ? { workflowId } : {}) }, keep),
      ),
    );
    return lists
      .flat()
      .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
      .slice(0, first);
  },

  availableTransitions: async (
    _: unknown,
    a: Args<{ tokenId: string; minSeq: number }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'read');
    const minSeq = minSeqOf(a.minSeq);
    const token = await readToken(ctx, idOf('tokenId', a.tokenId!), minSeq);
    const { value } = await ctx.deps.reads.transitions(
      ctx.principal.tenant,
      token.workflowId,
      token.id,
      {
        ...(minSeq !== undefined ? { minSeq } : {}),
      },
    );
    return value.map(toAvailableTransition);
  },

  workflowAnalytics: async (
    _: unknown,
    a: Args<{ workflowId: string; minSeq: number }>,
    ctx: GraphqlContext,
  ) => {
    need(ctx, 'read');
    const workflowId = idOf('workflowId', a.workflowId!);
    const { value } = await ctx.deps.reads.stats(
      tenantFor(ctx, workflowId),
      workflowId,
      {},
      minSeqOf(a.minSeq),
    );
    return toAnalytics(value);
  },
};

/** `workflowAnalytics` from the stats `GET /v1/workflows/:workflowId/stats` answers. */
export function toAnalytics(stats: {
  totalTokens: number;
  places: Record<string, number>;
  transitionsFired: number;
  averageTimeInPlaceMs: Record<string, number>;
  window: { from: string; to: string; completed: number };
}) {
  const averages = Object.values(stats.averageTimeInPlaceMs).filter((v) => v > 0);
  const averageTransitionTime =
    averages.length === 0 ? 0 : Math.round(averages.reduce((s, v) => s + v, 0) / averages.length);
  return {
    totalTokens: stats.totalTokens,
    tokensPerPlace: Object.entries(stats.places).map(([place, count]) => ({ place, count })),
    averageTransitionTime,
    transitionsFired: stats.transitionsFired,
    throughput: {
      period: `${stats.window.from}/${stats.window.to}`,
      tokensCompleted: stats.window.completed,
      // No end-to-end times are kept: the sum of the mean stays in each place a token passes.
      averageProcessingTime: Object.values(stats.averageTimeInPlaceMs).reduce((s, v) => s + v, 0),
    },
  };
}

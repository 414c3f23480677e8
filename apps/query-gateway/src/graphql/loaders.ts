import type { WorkflowResource } from '@cb/schemas';
import type { GraphqlContext } from './context';
import { toGqlWorkflow, toHistory, toTransitionHistory, type GqlToken } from './mapping';
import { tokenEvents } from './resolvers/tokens';

type Query = { obj: GqlToken; params: Record<string, unknown> };

/**
 * Batch loads (mercurius `loaders`): a list of tokens asks for its tokens' nested fields in one
 * call per field, so each definition version is read once however many tokens share it, and
 * each token's events once for `history` and `transitionHistory` together — no N+1.
 */
async function workflows(queries: Query[], ctx: GraphqlContext) {
  const reads = new Map<string, Promise<WorkflowResource | null>>();
  for (const { obj } of queries) {
    const key = `${obj.workflowId}@${obj.definitionVersion}`;
    if (!reads.has(key)) {
      reads.set(
        key,
        ctx.deps.reads
          .workflow(ctx.principal.tenant, obj.workflowId, obj.definitionVersion)
          .catch(() => null),
      );
    }
  }
  return Promise.all(
    queries.map(async ({ obj }) => {
      const w = await reads.get(`${obj.workflowId}@${obj.definitionVersion}`)!;
      return w === null ? null : toGqlWorkflow(w);
    }),
  );
}

async function history(queries: Query[], ctx: GraphqlContext) {
  return Promise.all(
    queries.map(async ({ obj }) => toHistory(await tokenEvents(ctx, obj.workflowId, obj.id))),
  );
}

async function transitionHistory(queries: Query[], ctx: GraphqlContext) {
  return Promise.all(
    queries.map(async ({ obj }) =>
      toTransitionHistory(await tokenEvents(ctx, obj.workflowId, obj.id)),
    ),
  );
}

export const loaders = {
  Token: { workflow: workflows, history },
  NATSToken: { workflow: workflows, history, transitionHistory },
};

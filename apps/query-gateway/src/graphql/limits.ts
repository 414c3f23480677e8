import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  getNamedType,
  getNullableType,
  isListType,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import {
  createComplexityRule,
  simpleEstimator,
  type ComplexityEstimator,
} from 'graphql-query-complexity';
import { DEFAULT_FIRST } from './args';

/** The limits of every operation on `/graphql`, introspection included (GRAPHQL_* settings). */
export interface GraphqlLimits {
  /** Deepest selection of schema fields (GRAPHQL_MAX_DEPTH). */
  maxDepth: number;
  /** Deepest selection under `__schema` / `__type` (GraphiQL's introspection query is 13 deep). */
  maxIntrospectionDepth: number;
  /** Highest estimated cost (GRAPHQL_MAX_COST). */
  maxCost: number;
  /** GRAPHQL_INTROSPECTION: false refuses `__schema` and `__type`. */
  introspection: boolean;
}

export const DEFAULT_LIMITS: GraphqlLimits = {
  maxDepth: 10,
  maxIntrospectionDepth: 15,
  maxCost: 20_000,
  introspection: true,
};

/** A list field without `first` (places, transitions, history, introspection's lists) counts as this many. */
const ASSUMED_LIST_SIZE = 10;
/**
 * Introspection's lists (types, fields, arguments) count as this many: they are bounded by the
 * schema itself, and the introspection query GraphiQL sends stays well within the limit.
 */
const INTROSPECTION_LIST_SIZE = 4;
/** Nested fields that read the stream once per token. */
const STREAM_READ_COST = 10;
const STREAM_FIELDS = new Set(['history', 'transitionHistory']);

/** Depth of a selection set: of schema fields, and of everything (introspection too). */
function depthOf(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visiting: Set<string>,
  inIntrospection: boolean,
): { data: number; all: number } {
  let data = 0;
  let all = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const introspection = inIntrospection || selection.name.value.startsWith('__');
      const inner = selection.selectionSet
        ? depthOf(selection.selectionSet, fragments, visiting, introspection)
        : { data: 0, all: 0 };
      all = Math.max(all, inner.all + 1);
      if (!introspection) data = Math.max(data, inner.data + 1);
    } else {
      const fragmentSet =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.selectionSet
          : fragments.get(selection.name.value)?.selectionSet;
      const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined;
      // A cycle of fragments is refused by graphql's own rule; here it only must not loop.
      if (fragmentSet === undefined || (name !== undefined && visiting.has(name))) continue;
      if (name !== undefined) visiting.add(name);
      const inner = depthOf(fragmentSet, fragments, visiting, inIntrospection);
      if (name !== undefined) visiting.delete(name);
      all = Math.max(all, inner.all);
      data = Math.max(data, inner.data);
    }
  }
  return { data, all };
}

/** Refuses operations nested deeper than the limits, with QUERY_TOO_DEEP. */
export function depthLimitRule(limits: GraphqlLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    }
    return {
      OperationDefinition(node) {
        const { data, all } = depthOf(node.selectionSet, fragments, new Set(), false);
        const tooDeep =
          data > limits.maxDepth
            ? { depth: data, maxDepth: limits.maxDepth }
            : all > limits.maxIntrospectionDepth
              ? { depth: all, maxDepth: limits.maxIntrospectionDepth }
              : undefined;
        if (tooDeep) {
          context.reportError(
            new GraphQLError(
              `the operation nests ${tooDeep.depth} levels deep; at most ${tooDeep.maxDepth} are allowed`,
              { nodes: [node], extensions: { code: 'QUERY_TOO_DEEP', ...tooDeep } },
            ),
          );
        }
      },
    };
  };
}

/**
 * Each field costs 1 plus its selections; a list field's selections count `first` times (or
 * ASSUMED_LIST_SIZE); a field that reads the stream per token costs STREAM_READ_COST.
 */
export const listEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const own = STREAM_FIELDS.has(field.name) ? STREAM_READ_COST : 1;
  if (!isListType(getNullableType(field.type))) return own + childComplexity;
  const first = typeof args.first === 'number' && args.first > 0 ? args.first : undefined;
  const takesFirst = field.args.some((a) => a.name === 'first');
  const items = getNamedType(field.type);
  const size =
    first ??
    (takesFirst
      ? DEFAULT_FIRST
      : items.name.startsWith('__')
        ? INTROSPECTION_LIST_SIZE
        : ASSUMED_LIST_SIZE);
  // Lists of scalars are counted once: their items have no selections.
  return own + ('getFields' in items ? childComplexity * size : childComplexity);
};

/** The rules mercurius adds to graphql's own (validationRules as a function: they need the variables). */
export function validationRules(limits: GraphqlLimits) {
  const depth = depthLimitRule(limits);
  return ({ variables }: { variables?: Record<string, unknown> | null }): ValidationRule[] => [
    depth,
    createComplexityRule({
      maximumComplexity: limits.maxCost,
      variables: (variables ?? {}) as Record<string, unknown>,
      estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })],
      createError: (max, actual) =>
        new GraphQLError(`the operation costs ${actual}; at most ${max} is allowed`, {
          extensions: { code: 'QUERY_TOO_COMPLEX', cost: actual, maxCost: max },
        }),
    }),
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}

/**
 * The rules a subscription's document gets before it starts (mercurius validates queries and
 * mutations only): the depth limit and the introspection switch. Its cost is not counted: a
 * subscription's variables are not at hand there, and each event it sends is one token's worth.
 */
export function subscriptionRules(limits: GraphqlLimits): ValidationRule[] {
  return [
    depthLimitRule(limits),
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}

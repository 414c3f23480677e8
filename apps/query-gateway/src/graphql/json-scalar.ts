import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { parseJsonBody } from '../json/parse-body';

/** Nesting of a JSON literal written in the query itself (variables are bounded by the body parser). */
const MAX_LITERAL_DEPTH = 34;

/**
 * `JSON`: any JSON value (token data and metadata, guards, filters). Variables arrive parsed by
 * the gateway's JSON body parser (depth bound, no `__proto__` keys, numbers kept exactly); a
 * literal in the query text goes through the same parser, so both are held to the same rules.
 */
export const JsonScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => {
    const built = literal(node, variables ?? undefined, 0);
    // The same checks as a request body: the literal's JSON text, parsed as a body would be.
    return parseJsonBody(JSON.stringify(built));
  },
});

function literal(
  node: ValueNode,
  variables: Record<string, unknown> | undefined,
  depth: number,
): unknown {
  if (depth > MAX_LITERAL_DEPTH)
    throw new TypeError(`JSON literals nest at most ${MAX_LITERAL_DEPTH} levels`);
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.ENUM:
      return node.value;
    case Kind.LIST:
      return node.values.map((v) => literal(v, variables, depth + 1));
    case Kind.OBJECT: {
      // Built as an entry list: a `__proto__` field becomes an own key, which the parser refuses.
      const entries = node.fields.map((f) => [
        f.name.value,
        literal(f.value, variables, depth + 1),
      ]);
      return Object.fromEntries(entries);
    }
    case Kind.VARIABLE:
      return variables?.[node.name.value] ?? null;
    default:
      return null;
  }
}

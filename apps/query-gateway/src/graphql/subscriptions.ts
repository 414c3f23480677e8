import type { GraphqlDeps } from './deps';

/**
 * PLACEHOLDER (helper G replaces this file): the `Subscription` resolvers and mercurius'
 * `subscription` option. Until then subscriptions are off.
 */
export function subscriptionResolvers(_deps: GraphqlDeps): Record<string, unknown> {
  return {};
}

export function subscriptionOptions(_deps: GraphqlDeps): false {
  return false;
}

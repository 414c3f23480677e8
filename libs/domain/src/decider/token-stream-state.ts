import { type TokenState } from '@cb/schemas';

/**
 * A token stream folded by `evolveToken`. `deleted` keeps the last state: token ids are never
 * reused, and history stays readable.
 */
export type TokenStreamState =
  | { status: 'absent' }
  | { status: 'live'; token: TokenState }
  | { status: 'deleted'; token: TokenState };

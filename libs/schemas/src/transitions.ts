import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common';
import { GuardFailure } from './errors';

/** Why a transition is not enabled for a token right now. */
export const DisabledReason = Type.Union([
  Type.Object({
    code: Type.Literal('WRONG_PLACE'),
    message: Type.String(),
    place: Id,
    from: Type.Array(Id),
  }),
  Type.Object({
    code: Type.Literal('GUARD_FAILED'),
    message: Type.String(),
    failures: Type.Array(GuardFailure, { description: 'the first 20 failures' }),
    failureCount: Type.Integer({ minimum: 1, description: 'how many failures there were' }),
  }),
  Type.Object({
    code: Type.Literal('GUARD_TOO_EXPENSIVE'),
    message: Type.String(),
    quarantinedUntil: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'the transition is refused at once until then',
      }),
    ),
  }),
]);
export type DisabledReason = Static<typeof DisabledReason>;

/** One transition of the token's definition: enabled, or every reason it is not. */
export const TransitionAvailability = Type.Object({
  id: Id,
  from: Type.Array(Id),
  to: Id,
  description: Type.Optional(Type.String()),
  enabled: Type.Boolean(),
  reasons: Type.Array(DisabledReason),
});
export type TransitionAvailability = Static<typeof TransitionAvailability>;

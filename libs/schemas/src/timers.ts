import { Type, type Static } from '@sinclair/typebox';
import { Id, Seq, Tenant, Timestamp } from './common';

/** A pending timer as a token read shows it. */
export const TokenTimerView = Type.Object(
  {
    transition: Id,
    dueAt: Timestamp,
    /** Why the last attempt at due time did not fire (a guard failed); tried again on a change. */
    lastError: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type TokenTimerView = Static<typeof TokenTimerView>;

const StoredTimer = Type.Object(
  { transition: Id, dueAt: Timestamp, armedBy: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

/**
 * A token's timers in the automation's timers bucket (one key per token, per partition): the
 * domain's `TokenTimers` after the token's last event, plus the failed attempts at due time.
 * Written by the owner of the token's partition only, with compare-and-set.
 */
export const TimerEntry = Type.Object(
  {
    tenant: Tenant,
    workflowId: Id,
    tokenId: Id,
    definitionVersion: Type.Integer({ minimum: 1 }),
    status: Type.Union([Type.Literal('live'), Type.Literal('deleted')]),
    place: Id,
    enteredSeq: Seq,
    seq: Seq,
    timers: Type.Array(StoredTimer),
    unarmed: Type.Array(
      Type.Object({
        transition: Id,
        pointer: Type.String(),
        reason: Type.Union([Type.Literal('missing'), Type.Literal('not-a-time')]),
      }),
    ),
    /** Timers whose fire was refused at due time (a guard), with the reason; cleared by a change. */
    failed: Type.Array(
      Type.Object({
        transition: Id,
        armedBy: Type.Integer({ minimum: 1 }),
        dueAt: Timestamp,
        error: Type.String({ maxLength: 1024 }),
      }),
    ),
  },
  { additionalProperties: false },
);
export type TimerEntry = Static<typeof TimerEntry>;

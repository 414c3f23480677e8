import { Type, type Static } from '@sinclair/typebox';
import { ApiKey, ApiKeyId } from './auth';
import { Actor, Id, JsonObject, SafeInteger, Tenant } from './common';

/** `POST /v1/workflows/:workflowId/tokens` */
export const CreateTokenBody = Type.Object(
  {
    id: Type.Optional(Id),
    place: Type.Optional(Id),
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
    triggeredBy: Type.Optional(Actor),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

/** `POST /v1/workflows/:workflowId/tokens/:tokenId/fire` */
export const FireBody = Type.Object(
  {
    transition: Id,
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
    triggeredBy: Type.Optional(Actor),
  },
  { additionalProperties: false },
);
export type FireBody = Static<typeof FireBody>;

/** `PATCH /v1/workflows/:workflowId/tokens/:tokenId` — JSON Merge Patch of data/metadata. */
export const PatchTokenBody = Type.Object(
  {
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
    triggeredBy: Type.Optional(Actor),
  },
  { additionalProperties: false },
);
export type PatchTokenBody = Static<typeof PatchTokenBody>;

export const WorkflowParams = Type.Object({ workflowId: Id });
export type WorkflowParams = Static<typeof WorkflowParams>;

export const TokenParams = Type.Object({ workflowId: Id, tokenId: Id });
export type TokenParams = Static<typeof TokenParams>;

export const StrongReadQuery = Type.Object(
  {
    consistency: Type.Optional(Type.Union([Type.Literal('eventual'), Type.Literal('strong')])),
  },
  { additionalProperties: false },
);
export type StrongReadQuery = Static<typeof StrongReadQuery>;

/** Optional write headers. */
export const WriteHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      pattern: '^(\\*|(W/)?"?[0-9]{1,15}"?)$',
      description: 'the version the write expects, e.g. "42" (the ETag of the resource)',
    }),
  ),
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' }),
  ),
});
export type WriteHeaders = Static<typeof WriteHeaders>;

// ---- reads ---------------------------------------------------------------------------------------

/** Read-your-writes: answer only once every event with seq ≤ minSeq is reflected. */
const MinSeq = SafeInteger({
  description:
    'answer only once the read model reflects every event with seq ≤ minSeq (e.g. the `version` of your last write); 503 PROJECTION_LAGGING if it does not in time, 400 MIN_SEQ_AHEAD at once if the stream has no such seq yet',
});
const Limit = SafeInteger({
  minimum: 1,
  maximum: 1000,
  default: 50,
  description: 'page size (1 to 1000, default 50)',
});
const Cursor = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'the `nextCursor` of the previous page',
});

export const TokenReadQuery = Type.Object(
  {
    consistency: Type.Optional(
      Type.Union([Type.Literal('eventual'), Type.Literal('strong')], {
        description: '`strong` reads the token straight from the stream',
      }),
    ),
    minSeq: Type.Optional(MinSeq),
  },
  { additionalProperties: false },
);
export type TokenReadQuery = Static<typeof TokenReadQuery>;

export const MinSeqQuery = Type.Object(
  { minSeq: Type.Optional(MinSeq) },
  { additionalProperties: false },
);
export type MinSeqQuery = Static<typeof MinSeqQuery>;

/** `GET /v1/admin/keys`: the root credential may name a tenant; others list their own. */
export const KeyListQuery = Type.Object(
  {
    tenant: Type.Optional(Tenant),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type KeyListQuery = Static<typeof KeyListQuery>;

export const KeyParams = Type.Object({ keyId: ApiKeyId }, { additionalProperties: false });
export type KeyParams = Static<typeof KeyParams>;

export const KeyPage = Type.Object(
  { items: Type.Array(ApiKey), nextCursor: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export type KeyPage = Static<typeof KeyPage>;

export const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor), minSeq: Type.Optional(MinSeq) },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

export const WorkflowGetQuery = Type.Object(
  {
    version: Type.Optional(
      SafeInteger({ minimum: 1, description: 'a specific version (default: the latest)' }),
    ),
    minSeq: Type.Optional(MinSeq),
  },
  { additionalProperties: false },
);
export type WorkflowGetQuery = Static<typeof WorkflowGetQuery>;

export const TokenListQuery = Type.Object(
  {
    place: Type.Optional(Id),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    minSeq: Type.Optional(MinSeq),
  },
  { additionalProperties: false },
);
export type TokenListQuery = Static<typeof TokenListQuery>;

/**
 * `metadata.<key>=<value>` and `data.<key>=<value>` parameters match tokens whose metadata or data
 * has that (scalar) value at that top-level key.
 */
export const TokenSearchQuery = Type.Object(
  {
    workflowId: Type.Optional(Id),
    place: Type.Optional(Id),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    minSeq: Type.Optional(MinSeq),
  },
  {
    additionalProperties: false,
    patternProperties: {
      '^metadata\\.[A-Za-z0-9_.-]{1,128}$': Type.String({
        maxLength: 1024,
        description:
          'match tokens whose metadata has this value (compared as text); a page, not a scan, when the workflow declares it in `searchAttributes`',
      }),
      '^data\\.[A-Za-z0-9_.-]{1,128}$': Type.String({
        maxLength: 1024,
        description:
          'match tokens whose data has this value at this top-level key (compared as text); a page, not a scan, when the workflow declares it in `searchAttributes`',
      }),
    },
  },
);
export type TokenSearchQuery = Static<typeof TokenSearchQuery> & Record<string, string | undefined>;

export const StatsQuery = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'start of the created/completed window (default: 24 hours before `to`)',
      }),
    ),
    to: Type.Optional(
      Type.String({ format: 'date-time', description: 'end of the window (default: now)' }),
    ),
    minSeq: Type.Optional(MinSeq),
  },
  { additionalProperties: false },
);
export type StatsQuery = Static<typeof StatsQuery>;

export const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(
      SafeInteger({
        minimum: 1,
        maximum: 1000,
        default: 1000,
        description: 'events per page (1 to 1000, default 1000)',
      }),
    ),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const EventsQuery = Type.Object(
  {
    since: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description:
          'resume after this seq (like the Last-Event-ID header); without either, only new events are sent',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuery>;

export const TokenIdParams = Type.Object({ tokenId: Id });
export type TokenIdParams = Static<typeof TokenIdParams>;

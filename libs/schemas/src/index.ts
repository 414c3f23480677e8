export {
  Id,
  Timestamp,
  JsonObject,
  Actor,
  Seq,
  SafeInteger,
  IdempotencyKey,
  MAX_JSON_DEPTH,
  Tenant,
  PrincipalRef,
} from './common';
export {
  GuardSchema,
  TransitionDefinition,
  WorkflowDefinitionInput,
  WorkflowVersionInput,
  WorkflowDefinition,
  DefinitionAnalysis,
  WorkflowResource,
} from './definition';
export { LastTransition, TokenState, Token } from './token';
export {
  WorkflowDefined,
  TokenCreated,
  TokenTransitioned,
  TokenUpdated,
  TokenDeleted,
  TokenEvent,
  CbEvent,
  type CbEventType,
} from './events';
export {
  ERROR_STATUS,
  ERROR_CODES,
  ErrorCodeSchema,
  statusOf,
  GuardFailure,
  FieldError,
  ErrorBody,
  Problem,
  type ErrorCode,
} from './errors';
export {
  DefineWorkflow,
  CreateToken,
  FireTransition,
  UpdateToken,
  DeleteToken,
  TokenCommand,
  Command,
  CommandRequest,
  TokenCommandResult,
  WorkflowCommandResult,
  CommandFailure,
  CommandReply,
  type CommandType,
} from './commands';
export {
  CreateTokenBody,
  FireBody,
  PatchTokenBody,
  WorkflowParams,
  TokenParams,
  StrongReadQuery,
  WriteHeaders,
  TokenReadQuery,
  MinSeqQuery,
  PageQuery,
  WorkflowGetQuery,
  TokenListQuery,
  TokenSearchQuery,
  StatsQuery,
  HistoryQuery,
  EventsQuery,
  TokenIdParams,
} from './http';
export {
  TokenPage,
  WorkflowPage,
  SequencedEvent,
  HistoryPage,
  StatsWindow,
  StatsResponse,
} from './read-api';
export {
  TokenDoc,
  PlaceEntry,
  HourKey,
  HourlyCounts,
  Hourly,
  TimeInPlace,
  PartitionStats,
  WorkflowStats,
  ReadModelPointer,
  PartitionWatermark,
  Lease,
  WorkerHeartbeat,
} from './read-models';
export { compileValidator, type Validator, type ValidationIssue } from './validate';
export { DisabledReason, TransitionAvailability } from './transitions';
export * from './bulk';

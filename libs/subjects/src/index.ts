export {
  SUBJECT_SAFE_ID_PATTERN,
  TENANT_PATTERN,
  DEFAULT_TENANT,
  isTenant,
  assertTenant,
  InvalidNameError,
  isSubjectSafeId,
  assertSubjectSafeId,
  assertPrefix,
  assertStreamName,
  assertPartitionCount,
} from './ids';
export { fnv1a32, partitionOf } from './partition';
export {
  Naming,
  DEFAULT_NAMING,
  COMMAND_KINDS,
  READ_MODEL_KINDS,
  type NamingOptions,
  DEFINITION_COMMAND_KINDS,
  type CommandKind,
  type DefinitionCommandKind,
  type TokenCommandKind,
  type ReadModelKind,
  type TokenAddress,
  type WorkflowAddress,
} from './naming';
export {
  JS_API,
  jsApiConsumerCreate,
  jsApiConsumerDelete,
  jsApiDirectGet,
  jsApiStreamInfo,
  kvKeyOf,
  kvStreamName,
  kvSubject,
  kvSubjectPrefix,
} from './wire';

export {
  connectNats,
  drainAtShutdown,
  inboxPrefixFor,
  isNatsConnected,
  parseServers,
  type NatsConnectionSettings,
} from './connect';
export { connectionInbox, isPermissionViolation } from './permissions';
export {
  DOCKER_NATS_CONFIG,
  NATS_USERS,
  inboxPrefixOf,
  natsPasswordVariable,
  natsPermissions,
  natsServerConfig,
  type NatsServerConfigOptions,
  type NatsUser,
  type SubjectPermissions,
  type UserPermissions,
} from './server-config';
export { encodeJson, decodeJson } from './codec';
export { CbHeaders } from './headers';
export { NatsPlatformError, classifyNatsError, JS_ERR, type NatsErrorCode } from './errors';
export { isNatsOutage, jetStreamCodesOf } from './outage';
export {
  eventStreamConfig,
  deadLetterStreamConfig,
  webhookDeliveriesStreamConfig,
  WEBHOOK_DELIVERIES_PER_WEBHOOK,
  WEBHOOK_DELIVERIES_MAX_AGE_MS,
  keepAllStreamConfig,
  type KeepAllStream,
  ensureStream,
  streamDrift,
  type StreamSettings,
  type DriftItem,
} from './stream-setup';
export {
  ensureInfrastructure,
  ensurePartitionCount,
  provision,
  TENANT_MIGRATION_ADVICE,
  TENANT_MIGRATION_IN_PROGRESS_ADVICE,
  type Infrastructure,
  type InfrastructureNeeds,
  type ProvisionOptions,
} from './infrastructure';
export { EventStore, storedAt, type AppendOptions, type AppendResult } from './event-store';
export {
  jsPublish,
  directGet,
  isLiteralSubject,
  type StoredMessage,
  type PublishOptions,
  type DirectGetQuery,
} from './js-wire';
export { LeanKv, kvOperation, type KvEntry } from './lean-kv';
export {
  HeaderBlock,
  messageHeaders,
  readsRawHeaders,
  type HeaderReader,
  type MessageHeaders,
} from './header-block';
export { RequestMux } from './request-mux';
export { requestCommand, type CommandRequestOutcome } from './command-request';
export { BatchedPublisher } from './batched-publisher';
export { decodeEvent, type DecodedEvent, type EventDecodeFailure } from './event-codec';
export {
  scanStream,
  StreamTail,
  parseAckSubject,
  type DeliveredMessage,
  type StartAt,
  type ScanOptions,
  type ScanResult,
  type TailOptions,
} from './stream-consumers';
export { retryOutages, type RetryOutagesOptions } from './retry-outages';
export {
  lastValidEvent,
  validEventsOn,
  isTokenEvent,
  isDefinitionEvent,
  type LastValidEvent,
} from './last-valid-event';

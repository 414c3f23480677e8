/** Header names used across services. Values are strings. */
export const CbHeaders = {
  /** Correlation id of the HTTP request that caused a command or event. */
  requestId: 'Cb-Request-Id',
  /** Digest of the command that produced an event (detects reuse of an idempotency key). */
  commandHash: 'Cb-Command-Hash',
  /** JetStream's de-duplication id. */
  msgId: 'Nats-Msg-Id',
} as const;

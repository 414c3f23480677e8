/** Why an outbound target is not acceptable (stable codes, shown to API callers as problems). */
export type OutboundRefusalCode = 'WEBHOOK_TARGET_REFUSED' | 'WEBHOOK_URL_INVALID';

/**
 * Raised by the guarded lookup when a host name resolves to a blocked address, so an http(s)
 * request fails before it connects; `code` tells it apart from a network error.
 */
export class OutboundRefusedError extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
  constructor(
    message: string,
    readonly addresses: readonly string[] = [],
  ) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

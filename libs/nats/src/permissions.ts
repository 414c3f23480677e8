import { createInbox, type NatsConnection } from '@nats-io/transport-node';

/**
 * Whether NATS refused something for lack of permission: nats.js fails a request to a subject
 * the user may not publish to at once, with `Permissions Violation for Publish to "…"`.
 */
export function isPermissionViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e.name === 'PermissionViolationError' || /Permissions Violation/i.test(e.message)) {
      return true;
    }
    e = e.cause;
  }
  return false;
}

/**
 * A fresh inbox under the connection's `inboxPrefix` (`_INBOX` by default): with per-user
 * permissions each user may subscribe below its own prefix only, so every inbox must use it.
 */
export function connectionInbox(nc: NatsConnection): string {
  const options = (nc as { options?: { inboxPrefix?: string } }).options;
  return createInbox(options?.inboxPrefix);
}

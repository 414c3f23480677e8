import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { decodeJson, encodeJson } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { CommandRequest } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted object keys, so equal commands hash equally whatever their key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Digest of what a command asks for: a reused Idempotency-Key with a different body is caught. */
export function commandHash(request: CommandRequest): string {
  return sha256Hex(
    stableJson({ command: request.command, triggeredBy: request.triggeredBy ?? null }),
  );
}

/**
 * An Idempotency-Key is scoped to the command type and its target, then hashed: the digest is
 * the JetStream `Nats-Msg-Id` (the server de-duplicates concurrent retries) and the key of a
 * record kept for the duplicate window (so a retry after other writes still finds the original).
 */
export class IdempotencyRecords {
  constructor(
    private readonly kv: KV,
    private readonly naming: Naming,
    private readonly logger: Logger,
  ) {}

  digest(scope: readonly string[], key: string): string {
    return sha256Hex(`${scope.join('\u0000')}\u0000${key}`);
  }

  async lookup(digest: string): Promise<number | null> {
    const entry = await this.kv.get(this.naming.idempotencyKey(digest));
    if (!entry || entry.operation !== 'PUT') return null;
    const value = decodeJson(entry.value) as { seq?: unknown } | undefined;
    return typeof value?.seq === 'number' ? value.seq : null;
  }

  /** Best effort: JetStream's own de-duplication still covers the window if this fails. */
  async remember(digest: string, seq: number): Promise<void> {
    try {
      await this.kv.put(this.naming.idempotencyKey(digest), encodeJson({ seq }));
    } catch (err) {
      this.logger.warn({ err, seq }, 'could not record idempotency key');
    }
  }
}
